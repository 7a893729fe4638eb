// Chooses the debug adapter for a session: tbdap over stdio for launch, a TCP connection for attach.
//
// (`"debugServer": N` never gets here: VS Code connects to that port itself.)

import * as vscode from 'vscode';
import { AdapterProcess } from './adapterProcess';
import { adapterCwd } from './configurationProvider';
import { DEFAULT_HOST } from './launchArgs';
import { log } from './output';

export class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
    createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
        const configuration = session.configuration;
        if (configuration.request === 'attach') {
            const host = configuration.host || DEFAULT_HOST;
            log(`attaching to tbdap at ${host}:${configuration.port}`);
            return new vscode.DebugAdapterServer(Number(configuration.port), host);
        }
        // The configuration provider has resolved and checked the interpreter.
        const python: string = configuration.python || 'python3';
        const cwd = adapterCwd(session.workspaceFolder, configuration.dumpFile);
        return new vscode.DebugAdapterInlineImplementation(new AdapterProcess(python, ['-m', 'tbdap'], cwd));
    }
}

// The extension's entry point: registers the "tbdump" debug type and the commands.
//
// All debugging happens in tbdap (Python); this file only wires VS Code to it.
// The language server (`python -m tblsp`, issue to come) gets its own file,
// started from here with the interpreter python.ts resolves.

import * as vscode from 'vscode';
import { AdapterFactory } from './adapterFactory';
import { openDumpFile, pickDumpFile } from './commands';
import { ConfigurationProvider } from './configurationProvider';
import { DEBUG_TYPE, OPEN_DUMP_COMMAND, PICK_DUMP_COMMAND } from './launchArgs';
import { disposeOutput, log } from './output';

export function activate(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
        vscode.commands.registerCommand(OPEN_DUMP_COMMAND, openDumpFile),
        vscode.commands.registerCommand(PICK_DUMP_COMMAND, pickDumpFile),
        vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
        vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterFactory()),
        { dispose: disposeOutput },
    );
    log(`tbdump extension ${context.extension.packageJSON.version} active`);
}

export function deactivate(): void {
    // Sessions and the output channel are disposed through context.subscriptions.
}

// The extension's entry point: registers the "tbdump" debug type and the commands,
// and starts the language server (languageClient.ts) when there is a dump to show.
//
// All debugging happens in tbdap (Python) and the crash on the code in tblsp
// (Python); this file only wires VS Code to them.

import * as vscode from 'vscode';
import { AdapterFactory } from './adapterFactory';
import { openDumpFile, pickDumpFile, trackSessions } from './commands';
import { ConfigurationProvider } from './configurationProvider';
import { TblspClient } from './languageClient';
import { DEBUG_TYPE, OPEN_DUMP_COMMAND, PICK_DUMP_COMMAND } from './launchArgs';
import { disposeOutput, log } from './output';

let tblsp: TblspClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
    tblsp = new TblspClient();
    const lsp = tblsp;
    context.subscriptions.push(
        vscode.commands.registerCommand(OPEN_DUMP_COMMAND,
            (uri?: vscode.Uri) => openDumpFile(uri, {
                debugging: (file) => void lsp.dumpOpened(file),
                showSafely: (file) => lsp.showSafely(file),
            })),
        vscode.commands.registerCommand(PICK_DUMP_COMMAND, pickDumpFile),
        trackSessions(),
        vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
        vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterFactory()),
        lsp,
        { dispose: disposeOutput },
    );
    log(`tbdump extension ${context.extension.packageJSON.version} active`);
    void lsp.startIfWorkspaceHasDump();
}

export async function deactivate(): Promise<void> {
    // Sessions and the output channels are disposed through context.subscriptions.
    const lsp = tblsp;
    tblsp = undefined;
    await lsp?.stop();
}

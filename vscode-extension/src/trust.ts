// Workspace trust: in Restricted Mode dumps open in safe mode, and the user is told once.
//
// VS Code asks the user to trust the folder before it starts any debug session
// (debugService.startDebugging requests workspace trust first — a modal "Do you
// trust the authors of the files in this folder?" — before any extension sees
// the configuration; seen in VS Code 1.139). No extension can start a session in
// Restricted Mode. So there "Open tbdump file" starts none: it shows the dump in
// safe mode without one (languageClient.ts: the crash on the code, read by tblsp
// from the safe layer, else the report in an output channel — VS Code asks for
// trust before starting a terminal too), and says so once per window.

import * as vscode from 'vscode';
import { log } from './output';

let told = false;

/** A backstop: a session that starts untrusted all the same gets no objects from the dump. */
export function applyWorkspaceTrust(configuration: vscode.DebugConfiguration): void {
    if (!vscode.workspace.isTrusted) {
        configuration.safe = true;
        log('workspace not trusted: the session is in safe mode');
    }
}

/** Says once per window why an opened dump shows without a debug session, and how to get one. */
export function tellRestrictedModeOnce(): void {
    if (told) {
        return;
    }
    told = true;
    const manage = 'Manage Workspace Trust';
    void vscode.window.showInformationMessage(
        'tbdump: this folder is in Restricted Mode, where VS Code starts no debug session. ' +
        'Dumps are shown in safe mode instead, from their captured previews (the crash on the code, ' +
        'or the report): nothing in them is unpickled or run. Trust the folder to debug with full values.',
        manage,
    ).then((choice) => {
        if (choice === manage) {
            void vscode.commands.executeCommand('workbench.trust.manage');
        }
    });
}

/**
 * The folder Python runs in: `cwd` when the workspace is trusted, else the extension's own.
 * `python -m` imports from its working directory first, so in an untrusted folder a
 * `tblsp/` or `tbdump/` placed there would run instead of the installed one.
 */
export function pythonCwd(cwd: string | undefined): string | undefined {
    return vscode.workspace.isTrusted ? cwd : __dirname;
}

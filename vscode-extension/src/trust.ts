// Workspace trust: in Restricted Mode every dump opens in safe mode, and the user is told once.

import * as vscode from 'vscode';
import { log } from './output';

let told = false;

/** Forces `safe: true` when the workspace is not trusted; says so the first time. */
export function applyWorkspaceTrust(configuration: vscode.DebugConfiguration): void {
    if (vscode.workspace.isTrusted) {
        return;
    }
    configuration.safe = true;
    log('workspace not trusted: opening the dump in safe mode');
    if (!told) {
        told = true;
        void vscode.window.showInformationMessage(
            'tbdump: this workspace is in Restricted Mode, so dumps open in safe mode: ' +
            'captured previews only, nothing is unpickled or evaluated. Trust the workspace for full values.',
        );
    }
}

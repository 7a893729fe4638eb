// The commands: "tbdump: Open tbdump file" and the dump file picker for `${command:tbdump.pickDumpFile}`.

import * as vscode from 'vscode';
import { launchConfigurationFor, SHOW_RUN_VIEW } from './launchArgs';
import { log } from './output';
import { tellRestrictedModeOnce } from './trust';

const DUMP_FILTERS = { 'tbdump files': ['pkl', 'tbdump'], 'All files': ['*'] };

/** Asks for a dump file; its path, or undefined when cancelled (which cancels a launch). */
export async function pickDumpFile(): Promise<string | undefined> {
    const defaultUri = vscode.workspace.workspaceFolders?.[0]?.uri;
    const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true,
        canSelectFolders: false,
        canSelectMany: false,
        openLabel: 'Open tbdump file',
        title: 'Open tbdump file',
        filters: DUMP_FILTERS,
        defaultUri,
    });
    return picked?.[0]?.fsPath;
}

/** What else shows a dump: tblsp (languageClient.ts). */
export interface DumpViews {
    /** A debug session starts on the dump: show it on the code too. */
    debugging(file: string): void;
    /** Restricted Mode: show it in safe mode, without a debug session. */
    showSafely(file: string): Promise<void>;
}

/**
 * Starts a debug session on a dump: the Explorer's file, else one picked now.
 * In Restricted Mode, where VS Code would only ask for trust, the dump is shown in safe mode instead.
 */
export async function openDumpFile(uri?: vscode.Uri, views?: DumpViews): Promise<boolean> {
    if (!(uri instanceof vscode.Uri)) {
        uri = vscode.window.activeTextEditor?.document.uri.scheme === 'file'
            && /\.(pkl|tbdump)$/i.test(vscode.window.activeTextEditor.document.uri.path)
            ? vscode.window.activeTextEditor.document.uri
            : undefined;
    }
    const file = uri ? uri.fsPath : await pickDumpFile();
    if (!file) {
        return false;
    }
    const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) || vscode.workspace.workspaceFolders?.[0];
    if (!vscode.workspace.isTrusted) {
        log(`opening ${file} in safe mode, without a debug session (Restricted Mode)`);
        tellRestrictedModeOnce();
        await views?.showSafely(file);
        return true;
    }
    log(`opening ${file}`);
    views?.debugging(file);
    return vscode.debug.startDebugging(folder, { ...launchConfigurationFor(file), [SHOW_RUN_VIEW]: true });
}

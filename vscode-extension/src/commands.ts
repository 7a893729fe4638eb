// The commands: "tbdump: Open tbdump file" and the dump file picker for `${command:tbdump.pickDumpFile}`.

import * as path from 'path';
import * as vscode from 'vscode';
import { DEBUG_TYPE, launchConfigurationFor, SHOW_RUN_VIEW } from './launchArgs';
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

/** The tbdump sessions running now (the API lists only the active one). */
const running = new Set<vscode.DebugSession>();

/** Keeps `running` as VS Code starts and ends sessions. */
export function trackSessions(): vscode.Disposable {
    return vscode.Disposable.from(
        vscode.debug.onDidStartDebugSession((session) => {
            if (session.type === DEBUG_TYPE) {
                running.add(session);
            }
        }),
        vscode.debug.onDidTerminateDebugSession((session) => running.delete(session)),
    );
}

/**
 * Whether to start a session on a dump that one already shows: VS Code's own question, as it asks
 * when a configuration that is running is started again (F5). Not simply the running session shown
 * instead: a new crash may have rewritten the dump since, and a second session shows that one.
 */
async function startAnother(file: string): Promise<boolean> {
    const open = [...running].find((session) => typeof session.configuration.dumpFile === 'string'
        && path.resolve(session.configuration.dumpFile) === path.resolve(file));
    if (!open) {
        return true;
    }
    const yes = 'Yes';
    const choice = await vscode.window.showInformationMessage(
        `'${open.name}' is already running. Do you want to start another instance?`, { modal: true }, yes);
    return choice === yes;
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
    if (!(await startAnother(file))) {
        return false;
    }
    log(`opening ${file}`);
    views?.debugging(file);
    return vscode.debug.startDebugging(folder, { ...launchConfigurationFor(file), [SHOW_RUN_VIEW]: true });
}

// Completes "tbdump" debug configurations before a session starts.
//
// It fills in a configuration-less F5, resolves the dump path, applies
// workspace trust and checks that the chosen interpreter can run tbdap; a
// problem becomes one notification and the session does not start.

import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEBUG_TYPE, PICK_DUMP_COMMAND, SHOW_RUN_VIEW } from './launchArgs';
import { log, showError } from './output';
import { checkTbdapInstalled, resolveInterpreter } from './python';
import { applyWorkspaceTrust } from './trust';

export class ConfigurationProvider implements vscode.DebugConfigurationProvider {
    resolveDebugConfiguration(
        _folder: vscode.WorkspaceFolder | undefined,
        configuration: vscode.DebugConfiguration,
    ): vscode.DebugConfiguration {
        if (!configuration.type && !configuration.request && !configuration.name) {
            // F5 without a launch.json, tbdump chosen as the debugger: ask for the dump.
            configuration.type = DEBUG_TYPE;
            configuration.request = 'launch';
            configuration.name = 'Open tbdump file';
        }
        if (configuration.request === 'launch' && !configuration.dumpFile) {
            configuration.dumpFile = `\${command:${PICK_DUMP_COMMAND}}`;
        }
        return configuration;
    }

    async resolveDebugConfigurationWithSubstitutedVariables(
        folder: vscode.WorkspaceFolder | undefined,
        configuration: vscode.DebugConfiguration,
    ): Promise<vscode.DebugConfiguration | undefined> {
        const showRunView = configuration[SHOW_RUN_VIEW] === true;
        delete configuration[SHOW_RUN_VIEW];
        const resolved = await this.check(folder, configuration);
        if (resolved && showRunView) {
            // Opening a dump means debugging it: CALL STACK and VARIABLES in view when it stops
            // (VS Code only selects the paused frame in a call stack that is visible).
            await vscode.commands.executeCommand('workbench.view.debug');
        }
        return resolved;
    }

    private async check(
        folder: vscode.WorkspaceFolder | undefined,
        configuration: vscode.DebugConfiguration,
    ): Promise<vscode.DebugConfiguration | undefined> {
        applyWorkspaceTrust(configuration);
        if (configuration.request === 'attach') {
            if (typeof configuration.port !== 'number' && configuration.debugServer === undefined) {
                await showError('tbdump: an "attach" configuration needs the "port" of a running `python -m tbdap --port N DUMP`.');
                return undefined;
            }
            return configuration;
        }
        if (configuration.request !== 'launch') {
            await showError(`tbdump: unknown request "${configuration.request}"; use "launch" or "attach".`);
            return undefined;
        }
        if (!configuration.dumpFile) {
            return undefined; // the file picker was cancelled
        }
        configuration.dumpFile = absolutePath(String(configuration.dumpFile), folder);
        if (configuration.debugServer !== undefined) {
            return configuration; // VS Code connects to that port; nothing to start here
        }
        const interpreter = await resolveInterpreter(folder, configuration.python);
        const problem = await checkTbdapInstalled(interpreter, adapterCwd(folder, configuration.dumpFile));
        if (problem) {
            await showError(problem);
            return undefined;
        }
        log(`interpreter: ${interpreter.command} (${interpreter.source})`);
        configuration.python = interpreter.command;
        return configuration;
    }
}

/** The dump path made absolute: `~` expanded, relative paths taken from the workspace folder. */
function absolutePath(file: string, folder: vscode.WorkspaceFolder | undefined): string {
    if (file === '~' || file.startsWith('~/')) {
        file = path.join(os.homedir(), file.slice(1));
    }
    if (path.isAbsolute(file)) {
        return file;
    }
    const base = folder?.uri.scheme === 'file' ? folder.uri.fsPath : process.cwd();
    return path.resolve(base, file);
}

/** The adapter runs in the workspace folder when there is one, else beside the dump. */
export function adapterCwd(folder: vscode.WorkspaceFolder | undefined, dumpFile: string): string {
    return folder?.uri.scheme === 'file' ? folder.uri.fsPath : path.dirname(dumpFile);
}

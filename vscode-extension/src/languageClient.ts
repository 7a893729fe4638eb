// Runs the language server `python -m tblsp` for Python files, so the crash of a dump
// shows in the Problems panel and on hover without a debug session.
//
// It starts when a dump is opened with "tbdump: Open tbdump file" or when the
// workspace has one (traceback.pkl, *.tbdump), only while `tbdump.lens.enable`
// is true, and stops on deactivate. tblsp reads only a dump's safe layer.
// Its code lenses name two commands that this file runs on the VS Code side
// (so the server does not advertise them): "Debug this crash" and "Show in terminal".

import * as cp from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import {
    LanguageClient,
    LanguageClientOptions,
    ServerOptions,
} from 'vscode-languageclient/node';
import { DEBUG_TYPE } from './launchArgs';
import { log } from './output';
import { resolveInterpreter } from './python';

export const DEBUG_CRASH_COMMAND = 'tbdump.debugCrash';
export const SHOW_REPORT_COMMAND = 'tbdump.showReport';
/** tblsp's command that loads one more dump while it runs. */
const SERVER_OPEN_DUMP = 'tbdump.openDump';
const DUMP_GLOB = '**/{traceback.pkl,*.tbdump}';

const CHECK_SCRIPT =
    'import importlib.util, sys\n' +
    'sys.stdout.write(sys.executable)\n' +
    'sys.exit(0 if importlib.util.find_spec("tblsp") and importlib.util.find_spec("pygls") else 3)\n';

function lensEnabled(): boolean {
    return vscode.workspace.getConfiguration('tbdump').get<boolean>('lens.enable', true);
}

/** Quotes one argument for the user's shell in a terminal. */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
    if (platform === 'win32') {
        return `"${arg.replace(/"/g, '""')}"`;
    }
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Why tblsp cannot run with this interpreter (one sentence), or undefined when it can. */
function checkTblspInstalled(python: string, cwd: string | undefined): Promise<string | undefined> {
    return new Promise((resolve) => {
        cp.execFile(python, ['-c', CHECK_SCRIPT], { cwd, timeout: 30_000, windowsHide: true }, (error, stdout, stderr) => {
            if (!error) {
                resolve(undefined);
            } else if ((error as { code?: unknown }).code === 3) {
                const exe = stdout.trim() || python;
                resolve(`tblsp is not installed in ${exe}: install it with "${exe}" -m pip install "tbdump[lsp]"`);
            } else {
                resolve(`${python} failed to start: ${stderr.trim().split('\n').pop() || error.message}`);
            }
        });
    });
}

/** The one tblsp client of the window; started on demand, stopped on deactivate. */
export class TblspClient implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private starting: Promise<LanguageClient | undefined> | undefined;
    private channel: vscode.OutputChannel | undefined;
    private readonly disposables: vscode.Disposable[] = [];

    constructor() {
        this.disposables.push(
            vscode.commands.registerCommand(DEBUG_CRASH_COMMAND, (dumpPath: string) => this.debugCrash(dumpPath)),
            vscode.commands.registerCommand(SHOW_REPORT_COMMAND, (dumpPath: string) => this.showReport(dumpPath)),
            vscode.workspace.onDidChangeConfiguration((event) => {
                if (event.affectsConfiguration('tbdump.lens.enable')) {
                    void (lensEnabled() ? this.startIfWorkspaceHasDump() : this.stop());
                }
            }),
        );
    }

    /** Starts tblsp when the workspace has a dump (the server finds the dumps itself). */
    async startIfWorkspaceHasDump(): Promise<void> {
        if (!lensEnabled() || this.starting || !vscode.workspace.workspaceFolders?.length) {
            return;
        }
        const found = await vscode.workspace.findFiles(DUMP_GLOB, '**/node_modules/**', 1);
        if (found.length) {
            log(`dump found in the workspace (${found[0].fsPath}): starting tblsp`);
            await this.start(undefined);
        }
    }

    /** A dump opened through the extension: tblsp shows it, started now if it is not running. */
    async dumpOpened(dumpPath: string): Promise<void> {
        if (!lensEnabled()) {
            return;
        }
        if (!this.starting) {
            await this.start([dumpPath]);
            return;
        }
        const client = await this.starting;
        if (!client) {
            return;
        }
        try {
            await client.sendRequest('workspace/executeCommand', { command: SERVER_OPEN_DUMP, arguments: [dumpPath] });
        } catch (error) {
            log(`tblsp could not open ${dumpPath}: ${error}`);
        }
    }

    private start(dumpFiles: string[] | undefined): Promise<LanguageClient | undefined> {
        if (!this.starting) {
            this.starting = this.doStart(dumpFiles);
        }
        return this.starting;
    }

    private async doStart(dumpFiles: string[] | undefined): Promise<LanguageClient | undefined> {
        const folder = vscode.workspace.workspaceFolders?.[0];
        const cwd = folder?.uri.scheme === 'file' ? folder.uri.fsPath : dumpFiles && path.dirname(dumpFiles[0]);
        const interpreter = await resolveInterpreter(folder, undefined);
        const problem = await checkTblspInstalled(interpreter.command, cwd);
        if (problem) {
            // The lens is a passive extra: say why in the output, debugging still works without it.
            log(`tblsp not started: ${problem} (interpreter from ${interpreter.source})`);
            this.starting = undefined;
            return undefined;
        }
        if (!this.channel) {
            this.channel = vscode.window.createOutputChannel('tblsp');
        }
        // LSP over stdio. No `transport: TransportKind.stdio`: with it the client appends
        // `--stdio` to the arguments, which tblsp (stdio by default) rejects.
        const serverOptions: ServerOptions = {
            command: interpreter.command,
            args: ['-m', 'tblsp'],
            options: { cwd },
        };
        const initializationOptions: Record<string, unknown> = {
            clientCommands: [DEBUG_CRASH_COMMAND, SHOW_REPORT_COMMAND],
        };
        if (dumpFiles) {
            initializationOptions.dumpFiles = dumpFiles;
        }
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: 'file', language: 'python' }],
            outputChannel: this.channel,
            initializationOptions,
            middleware: {
                // While a debug session runs, the debugger shows the values (expandable, evaluated),
                // and tblsp's hover, inline values and inlay hints step aside: with them VS Code
                // showed no debug hover at all (seen in the e2e test_debug_console_and_hover).
                provideHover: (document, position, token, next) =>
                    vscode.debug.activeDebugSession ? undefined : next(document, position, token),
                provideInlayHints: (document, range, token, next) =>
                    vscode.debug.activeDebugSession ? [] : next(document, range, token),
                provideInlineValues: (document, range, context, token, next) =>
                    vscode.debug.activeDebugSession ? [] : next(document, range, context, token),
            },
        };
        const client = new LanguageClient('tblsp', 'tbdump language server (tblsp)', serverOptions, clientOptions);
        log(`starting tblsp: ${interpreter.command} -m tblsp (${interpreter.source})` +
            (dumpFiles ? ` for ${dumpFiles.join(', ')}` : ''));
        try {
            await client.start();
        } catch (error) {
            log(`tblsp failed to start: ${error}`);
            this.starting = undefined;
            return undefined;
        }
        this.client = client;
        return client;
    }

    /** Stops the server (deactivate, or the setting turned off). */
    async stop(): Promise<void> {
        const starting = this.starting;
        this.starting = undefined;
        const client = (await starting) ?? this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.stop();
            } catch (error) {
                log(`tblsp did not stop cleanly: ${error}`);
            }
        }
    }

    /** "Debug this crash": a tbdump debug session on the dump. */
    private debugCrash(dumpPath: string): Thenable<boolean> {
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dumpPath)) ?? vscode.workspace.workspaceFolders?.[0];
        return vscode.debug.startDebugging(folder, {
            type: DEBUG_TYPE, request: 'launch', name: 'Debug this crash', dumpFile: dumpPath,
        });
    }

    /** "Show in terminal": the dump's report in a terminal. */
    private async showReport(dumpPath: string): Promise<void> {
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dumpPath)) ?? vscode.workspace.workspaceFolders?.[0];
        const interpreter = await resolveInterpreter(folder, undefined);
        const terminal = vscode.window.createTerminal({ name: 'tbdump report', cwd: path.dirname(dumpPath) });
        terminal.show();
        terminal.sendText(`${shellQuote(interpreter.command)} -m tbdump.report ${shellQuote(dumpPath)}`);
    }

    dispose(): void {
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
        this.channel?.dispose();
    }
}

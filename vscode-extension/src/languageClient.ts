// Runs the language server `python -m tblsp` for Python files, so the crash of a dump
// shows in the Problems panel and on hover without a debug session.
//
// It starts when a dump is opened with "tbdump: Open tbdump file" or when the
// workspace has one (traceback.pkl, *.tbdump), only while `tbdump.lens.enable`
// is true, and stops on deactivate. tblsp reads only a dump's safe layer.
// Its code lenses name two commands that this file runs on the VS Code side
// (so the server does not advertise them): "Debug this crash" and "Show in terminal".
// In Restricted Mode, where VS Code starts no debug session, it is how an opened
// dump is shown (showSafely).

import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
    CodeLensRequest,
    LanguageClient,
    LanguageClientOptions,
    ServerOptions,
} from 'vscode-languageclient/node';
import { launchConfigurationFor, SHOW_RUN_VIEW } from './launchArgs';
import { log } from './output';
import { installTbdumpHint, resolveInterpreter } from './python';
import { pythonCwd } from './trust';

export const DEBUG_CRASH_COMMAND = 'tbdump.debugCrash';
export const SHOW_REPORT_COMMAND = 'tbdump.showReport';
/** tblsp's command that loads one more dump while it runs. */
const SERVER_OPEN_DUMP = 'tbdump.openDump';
const DUMP_GLOB = '**/{traceback.pkl,traceback.[0-9]*.pkl,*.tbdump}';
/** How long tblsp's diagnostics may take to arrive after it answered that a dump is loaded. */
const DIAGNOSTICS_TIMEOUT_MS = 10_000;

const CHECK_SCRIPT =
    'import importlib.util, sys\n' +
    'sys.stdout.write(sys.executable)\n' +
    'sys.exit(3 if not importlib.util.find_spec("tblsp") else 0 if importlib.util.find_spec("pygls") else 4)\n';

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

/** The same file, however the two paths spell it (tblsp may name a dump it found by another path). */
function samePath(a: unknown, b: string): boolean {
    const real = (p: string): string => {
        try {
            return fs.realpathSync.native(p);
        } catch {
            return path.resolve(p);
        }
    };
    return typeof a === 'string' && real(a) === real(b);
}

/** The files where tblsp shows an error of this dump (its `data.dump` names the dump). */
function filesWithErrorsOf(client: LanguageClient, dumpPath: string): vscode.Uri[] {
    const found: vscode.Uri[] = [];
    client.diagnostics?.forEach((uri, diagnostics) => {
        if (diagnostics.some((d) => d.severity === vscode.DiagnosticSeverity.Error
            && samePath((d as { data?: { dump?: unknown } }).data?.dump, dumpPath))) {
            found.push(uri);
        }
    });
    return found;
}

/** Waits (up to a timeout) until tblsp's diagnostics of the dump have reached VS Code. */
function whenErrorsOf(client: LanguageClient, dumpPath: string): Promise<vscode.Uri[]> {
    const now = filesWithErrorsOf(client, dumpPath);
    if (now.length) {
        return Promise.resolve(now);
    }
    return new Promise((resolve) => {
        const done = (files: vscode.Uri[]): void => {
            clearTimeout(timer);
            listener.dispose();
            resolve(files);
        };
        const timer = setTimeout(() => done(filesWithErrorsOf(client, dumpPath)), DIAGNOSTICS_TIMEOUT_MS);
        const listener = vscode.languages.onDidChangeDiagnostics(() => {
            const files = filesWithErrorsOf(client, dumpPath);
            if (files.length) {
                done(files);
            }
        });
    });
}

/** Why tblsp cannot run with this interpreter (one sentence), or undefined when it can. */
function checkTblspInstalled(python: string, cwd: string | undefined): Promise<string | undefined> {
    return new Promise((resolve) => {
        cp.execFile(python, ['-c', CHECK_SCRIPT], { cwd, timeout: 30_000, windowsHide: true }, (error, stdout, stderr) => {
            if (!error) {
                resolve(undefined);
            } else if ((error as { code?: unknown }).code === 3) {
                const exe = stdout.trim() || python;
                resolve(`tblsp is not installed in ${exe}. ${installTbdumpHint(exe, '[lsp]')}`);
            } else if ((error as { code?: unknown }).code === 4) {
                const exe = stdout.trim() || python;
                resolve(`tblsp needs pygls, which is not installed in ${exe}: install it with "${exe}" -m pip install "pygls>=2,<3"`);
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
    private reportChannel: vscode.OutputChannel | undefined;
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
        if (this.starting || !vscode.workspace.workspaceFolders?.length) {
            return;
        }
        const found = await vscode.workspace.findFiles(DUMP_GLOB, '**/node_modules/**', 1);
        if (!found.length) {
            return;
        }
        if (!lensEnabled()) {
            log(`dump found in the workspace (${found[0].fsPath}); tbdump.lens.enable is off: tblsp not started`);
            return;
        }
        log(`dump found in the workspace (${found[0].fsPath}): starting tblsp`);
        await this.start(undefined);
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
        const cwd = pythonCwd(folder?.uri.scheme === 'file' ? folder.uri.fsPath : dumpFiles && path.dirname(dumpFiles[0]));
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

    /**
     * Restricted Mode's "Open tbdump file": the dump without a debug session, in safe mode.
     * The editor opens at the crash line (where the "Debug this crash" lens is), with the
     * crash in Problems and captured values on hover; when tblsp cannot show it (off,
     * not installed, no local source) the report shows instead.
     */
    async showSafely(dumpPath: string): Promise<void> {
        const crash = await this.crashLine(dumpPath);
        if (crash) {
            await vscode.window.showTextDocument(crash.uri, { selection: crash.range });
        } else if (crash === undefined) {
            await this.showReport(dumpPath);
        }
    }

    /** Where tblsp puts the dump's crash; null when the dump did not load (tblsp said why). */
    private async crashLine(dumpPath: string): Promise<{ uri: vscode.Uri; range: vscode.Range } | null | undefined> {
        if (!lensEnabled()) {
            log('tbdump.lens.enable is off: the dump is not shown on the code');
            return undefined;
        }
        const client = await this.start([dumpPath]);
        if (!client) {
            return undefined;
        }
        let answer: { loaded?: boolean } | undefined;
        try {
            // Answered once tblsp has read the dump (again, if it was started with it) and published it.
            answer = await client.sendRequest('workspace/executeCommand', { command: SERVER_OPEN_DUMP, arguments: [dumpPath] });
        } catch (error) {
            log(`tblsp could not open ${dumpPath}: ${error}`);
            return undefined;
        }
        if (!answer?.loaded) {
            return null;
        }
        // The crash line is the one with the "Debug this crash" lens for this dump, in a file with its errors.
        for (const uri of await whenErrorsOf(client, dumpPath)) {
            const lenses = await client.sendRequest(CodeLensRequest.type, { textDocument: { uri: client.code2ProtocolConverter.asUri(uri) } });
            const lens = lenses?.find((l) => l.command?.command === DEBUG_CRASH_COMMAND && samePath(l.command.arguments?.[0], dumpPath));
            if (lens) {
                return { uri, range: client.protocol2CodeConverter.asRange(lens.range) };
            }
        }
        log(`tblsp shows no crash line of ${dumpPath} (its source is not on this machine?)`);
        return undefined;
    }

    /** "Debug this crash": a tbdump debug session on the dump, as "Open tbdump file" starts it. */
    private debugCrash(dumpPath: string): Thenable<boolean> {
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dumpPath)) ?? vscode.workspace.workspaceFolders?.[0];
        return vscode.debug.startDebugging(folder, {
            ...launchConfigurationFor(dumpPath), name: 'Debug this crash', [SHOW_RUN_VIEW]: true,
        });
    }

    /**
     * "Show in terminal": the dump's report in a terminal. In Restricted Mode in the
     * "tbdump report" output channel instead: VS Code asks for trust before it starts a
     * terminal there ("Creating a terminal process requires executing code").
     */
    private async showReport(dumpPath: string): Promise<void> {
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dumpPath)) ?? vscode.workspace.workspaceFolders?.[0];
        const interpreter = await resolveInterpreter(folder, undefined);
        if (!vscode.workspace.isTrusted) {
            return this.reportInOutput(interpreter.command, dumpPath);
        }
        const terminal = vscode.window.createTerminal({ name: 'tbdump report', cwd: path.dirname(dumpPath) });
        terminal.show();
        terminal.sendText(`${shellQuote(interpreter.command)} -m tbdump.report ${shellQuote(dumpPath)}`);
    }

    /** The report (always safe: previews only) run by the extension and shown in an output channel. */
    private reportInOutput(python: string, dumpPath: string): Promise<void> {
        const channel = this.reportChannel ??= vscode.window.createOutputChannel('tbdump report');
        const args = ['-m', 'tbdump.report', '--color', 'never', dumpPath];
        return new Promise((resolve) => {
            cp.execFile(python, args, { cwd: pythonCwd(path.dirname(dumpPath)), timeout: 60_000, maxBuffer: 64 << 20, windowsHide: true },
                (error, stdout, stderr) => {
                    channel.clear();
                    channel.appendLine(`$ ${[python, ...args].map((a) => shellQuote(a)).join(' ')}`);
                    channel.append(stdout);
                    if (error) {
                        channel.appendLine(stderr.trim() || error.message);  // the report's one-line reason
                    }
                    channel.show(true);
                    resolve();
                });
        });
    }

    dispose(): void {
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
        this.channel?.dispose();
        this.reportChannel?.dispose();
    }
}

// Finds the Python interpreter that runs tbdap, and checks tbdump is installed in it.
//
// Order: the configuration's `python`, the `tbdump.python` setting, the
// interpreter selected in the Python extension, `python3`/`python` on PATH.
// The language server `python -m tblsp` (languageClient.ts) runs with the same interpreter.

import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { log } from './output';

/** Where the interpreter came from, said in messages so the user knows what to change. */
export interface Interpreter {
    command: string;
    source: string;
}

/** The interpreter for a session in `folder`, by the documented order. */
export async function resolveInterpreter(
    folder: vscode.WorkspaceFolder | undefined,
    fromConfiguration: string | undefined,
): Promise<Interpreter> {
    if (fromConfiguration && fromConfiguration.trim()) {
        return { command: fromConfiguration.trim(), source: 'the launch configuration\'s "python"' };
    }
    const setting = vscode.workspace.getConfiguration('tbdump', folder?.uri).get<string>('python', '');
    if (setting.trim()) {
        return { command: setting.trim(), source: 'the "tbdump.python" setting' };
    }
    // In Restricted Mode the Python extension's choice may be an interpreter inside the untrusted folder.
    const fromPythonExtension = vscode.workspace.isTrusted ? await pythonExtensionInterpreter(folder) : undefined;
    if (fromPythonExtension) {
        return { command: fromPythonExtension, source: 'the interpreter selected in the Python extension' };
    }
    for (const name of ['python3', 'python']) {
        const found = onPath(name);
        if (found) {
            return { command: found, source: `"${name}" on PATH` };
        }
    }
    return { command: 'python3', source: 'the default' };
}

/** The Python extension's selected interpreter, when that extension is installed. */
async function pythonExtensionInterpreter(folder: vscode.WorkspaceFolder | undefined): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension('ms-python.python');
    if (!extension) {
        return undefined;
    }
    try {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const api: any = extension.isActive ? extension.exports : await extension.activate();
        const fromEnvironments = api?.environments?.getActiveEnvironmentPath?.(folder?.uri)?.path;
        if (typeof fromEnvironments === 'string' && fromEnvironments) {
            return fromEnvironments;
        }
        const details = await api?.settings?.getExecutionDetails?.(folder?.uri);
        const command = details?.execCommand?.[0];
        return typeof command === 'string' && command ? command : undefined;
    } catch (error) {
        log(`could not ask the Python extension for its interpreter: ${error}`);
        return undefined;
    }
}

/** The absolute path of an executable named `name` on PATH, if any. */
function onPath(name: string): string | undefined {
    const extensions = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
        for (const ext of extensions) {
            const candidate = path.join(dir, name + ext);
            try {
                fs.accessSync(candidate, fs.constants.X_OK);
                if (fs.statSync(candidate).isFile()) {
                    return candidate;
                }
            } catch {
                // not here
            }
        }
    }
    return undefined;
}

const CHECK_SCRIPT =
    'import importlib.util, sys\n' +
    'sys.stdout.write(sys.executable)\n' +
    'sys.exit(0 if importlib.util.find_spec("tbdap") else 3)\n';

/**
 * How to install tbdump (with `extras`, e.g. `[lsp]`) into `exe`, one sentence: from its
 * source, since the package named tbdump on PyPI is another project.
 */
export function installTbdumpHint(exe: string, extras = ''): string {
    return `Install it from tbdump's source (the package named tbdump on PyPI is another project): "${exe}" -m pip install "/path/to/tbdump${extras}" (a clone, or the wheel its make wheel builds)`;
}

/** Why tbdap cannot start with this interpreter, as one sentence for a person; undefined when it can. */
export function checkTbdapInstalled(interpreter: Interpreter, cwd: string | undefined): Promise<string | undefined> {
    return new Promise((resolve) => {
        cp.execFile(
            interpreter.command,
            ['-c', CHECK_SCRIPT],
            { cwd, timeout: 30_000, windowsHide: true },
            (error, stdout, stderr) => {
                const where = `${interpreter.command} (${interpreter.source})`;
                if (!error) {
                    resolve(undefined);
                    return;
                }
                const code = (error as NodeJS.ErrnoException).code;
                if (code === 'ENOENT' || code === 'EACCES') {
                    resolve(`Python interpreter not found: ${where}. Set "tbdump.python" or the launch configuration's "python" to a Python with tbdump installed.`);
                } else if ((error as { code?: unknown }).code === 3) {
                    const exe = stdout.trim() || interpreter.command;
                    resolve(`tbdump is not installed in the Python interpreter ${exe} (${interpreter.source}). ${installTbdumpHint(exe)} — or set "tbdump.python" to a Python that has it.`);
                } else {
                    const last = stderr.trim().split('\n').pop() ?? '';
                    resolve(`Python interpreter ${where} failed to start: ${last || error.message}`);
                }
            },
        );
    });
}

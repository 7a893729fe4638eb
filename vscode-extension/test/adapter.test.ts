// Drives the real Python debug adapter (`python -m tbdap`) with Microsoft's DebugClient,
// over stdio and over a TCP port, on dumps of programs that really crashed.
//
// The interpreter comes from TBDUMP_PYTHON (default python3); tbdump must be
// installed in it.

import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const PYTHON = process.env.TBDUMP_PYTHON || 'python3';
const PROGRAMS = path.resolve(__dirname, '..', '..', 'test', 'programs');
const TIMEOUT = 20_000;

let work: string;
let crashProgram: string;
let crashDump: string;

/** The 1-based line of the `# MARK: name` comment in a program. */
function markedLine(file: string, name: string): number {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes(`# MARK: ${name}`));
    assert.ok(index >= 0, `no "# MARK: ${name}" in ${file}`);
    return index + 1;
}

/** Runs `python -m tbdump program` in `dir`, as a user would, and returns the dump path. */
function makeDump(program: string, dir: string): string {
    const result = cp.spawnSync(PYTHON, ['-m', 'tbdump', program], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const dump = path.join(dir, 'traceback.pkl');
    assert.ok(fs.existsSync(dump),
        `python -m tbdump ${program} wrote no traceback.pkl (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
    return dump;
}

/** A DebugClient on a fresh `python -m tbdap` over stdio. */
async function stdioClient(): Promise<DebugClient> {
    // DebugClient spawns `runtime executable`: "-mtbdap" is python's -m with its argument.
    const dc = new DebugClient(PYTHON, '-mtbdap', 'tbdump', { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] }, true);
    dc.defaultTimeout = TIMEOUT;
    await dc.start();
    return dc;
}

/** Starts `python -m tbdap --port 0 DUMP` and resolves with the process and the port it printed. */
function startServer(dump: string): Promise<{ server: cp.ChildProcess; port: number }> {
    return new Promise((resolve, reject) => {
        const server = cp.spawn(PYTHON, ['-m', 'tbdap', '--port', '0', dump], { cwd: work });
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`tbdap --port 0 printed no port:\n${out}\n${err}`)), TIMEOUT);
        server.stderr!.on('data', (d) => { err += d; });
        server.stdout!.on('data', (d) => {
            out += d;
            const newline = out.indexOf('\n');
            if (newline >= 0) {
                clearTimeout(timer);
                // The line names the address ("... on 127.0.0.1:PORT ..."), or is the bare port.
                const line = out.slice(0, newline);
                const match = /:(\d+)\b(?!.*:\d)/.exec(line) ?? /^\s*(\d+)\s*$/.exec(line);
                if (match) {
                    resolve({ server, port: Number(match[1]) });
                } else {
                    reject(new Error(`tbdap --port 0 printed no port on its first line: ${out}`));
                }
            }
        });
        server.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`tbdap --port 0 exited with ${code}:\n${out}\n${err}`));
        });
    });
}

/** Launches a dump and waits for the stop; returns the stopped event's body. */
async function launchAndStop(dc: DebugClient, args: Record<string, unknown>): Promise<DebugProtocol.StoppedEvent['body']> {
    const [, , stopped] = await Promise.all([
        dc.configurationSequence(),
        dc.launch(args),
        dc.waitForEvent('stopped'),
    ]);
    return (stopped as DebugProtocol.StoppedEvent).body;
}

async function frames(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame[]> {
    const response = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 });
    return response.body.stackFrames;
}

async function scopeVariables(dc: DebugClient, frameId: number, scopeName: string): Promise<DebugProtocol.Variable[]> {
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
    const scope = scopes.find((s) => s.name === scopeName);
    assert.ok(scope, `no scope "${scopeName}" in ${JSON.stringify(scopes.map((s) => s.name))}`);
    return (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables;
}

function byName(variables: DebugProtocol.Variable[], name: string): DebugProtocol.Variable {
    const found = variables.find((v) => v.name === name);
    assert.ok(found, `no variable "${name}" in ${JSON.stringify(variables.map((v) => v.name))}`);
    return found;
}

before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tbdump-adapter-test-'));
    crashProgram = path.join(work, 'crash.py');
    fs.copyFileSync(path.join(PROGRAMS, 'crash.py'), crashProgram);
    crashDump = makeDump('crash.py', work);
});

after(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

describe('tbdap over stdio', { timeout: 60_000 }, () => {
    let dc: DebugClient;
    let stoppedThread: number;

    before(async () => {
        dc = await stdioClient();
        const stopped = await launchAndStop(dc, { dumpFile: crashDump });
        assert.strictEqual(stopped.reason, 'exception');
        assert.strictEqual(stopped.allThreadsStopped, true);
        assert.match(stopped.text ?? '', /ZeroDivisionError/);
        stoppedThread = stopped.threadId!;
    });

    after(async () => { await dc.stop(); });

    it('reports the thread that crashed', async () => {
        const threads = (await dc.threadsRequest()).body.threads;
        assert.ok(threads.some((t) => t.id === stoppedThread), JSON.stringify(threads));
    });

    it('shows the stack innermost first, at the crashing line', async () => {
        const stack = await frames(dc, stoppedThread);
        assert.strictEqual(stack[0].name, 'average');
        assert.strictEqual(stack[0].line, markedLine(crashProgram, 'crash'));
        assert.strictEqual(fs.realpathSync(stack[0].source!.path!), fs.realpathSync(crashProgram));
        assert.strictEqual(stack[1].name, 'main');
        assert.strictEqual(stack[1].line, markedLine(crashProgram, 'call'));
        assert.ok(stack.findIndex((f) => f.name === 'main') < stack.findIndex((f) => f.name === '<module>'));
    });

    it('offers Locals and Globals with the captured values', async () => {
        const [top] = await frames(dc, stoppedThread);
        const locals = await scopeVariables(dc, top.id, 'Locals');
        assert.strictEqual(byName(locals, 'values').value, '[1, 2, 3]');
        assert.strictEqual(byName(locals, 'weights').value, '[0, 0, 0]');
        assert.strictEqual(byName(locals, 'total').value, '0');
        assert.strictEqual(byName(locals, 'total').type, 'int');
        // Functions and classes come in groups, as in debugpy.
        const globals = await scopeVariables(dc, top.id, 'Globals');
        const functions = byName(globals, 'function variables');
        byName((await dc.variablesRequest({ variablesReference: functions.variablesReference })).body.variables, 'average');
        const classes = byName(globals, 'class variables');
        byName((await dc.variablesRequest({ variablesReference: classes.variablesReference })).body.variables, 'Point');
    });

    it('expands a dict by repr(key) and an object by attribute', async () => {
        const stack = await frames(dc, stoppedThread);
        const locals = await scopeVariables(dc, stack[1].id, 'Locals');
        const config = byName(locals, 'config');
        assert.ok(config.variablesReference > 0, 'config is not expandable');
        const entries = (await dc.variablesRequest({ variablesReference: config.variablesReference })).body.variables;
        assert.strictEqual(byName(entries, "'name'").value, "'demo'");
        assert.strictEqual(byName(entries, "'retries'").value, '3');
        const origin = byName(locals, 'origin');
        assert.strictEqual(origin.type, 'Point');
        const attributes = (await dc.variablesRequest({ variablesReference: origin.variablesReference })).body.variables;
        assert.strictEqual(byName(attributes, 'x').value, '1');
        assert.strictEqual(byName(attributes, 'y').value, '2');
    });

    it('pages a 10 000-item list', async () => {
        const stack = await frames(dc, stoppedThread);
        const numbers = byName(await scopeVariables(dc, stack[1].id, 'Locals'), 'numbers');
        assert.strictEqual(numbers.indexedVariables, 10000);
        const page = (await dc.variablesRequest({
            variablesReference: numbers.variablesReference, filter: 'indexed', start: 9990, count: 10,
        })).body.variables;
        assert.deepStrictEqual(page.map((v) => v.name), Array.from({ length: 10 }, (_, i) => String(9990 + i)));
        assert.strictEqual(page[9].value, '9999');
    });

    it('evaluates an expression over two locals in a frame', async () => {
        const [top] = await frames(dc, stoppedThread);
        const result = await dc.evaluateRequest({ expression: 'len(values) + len(weights)', frameId: top.id, context: 'repl' });
        assert.strictEqual(result.body.result, '6');
        const hover = await dc.evaluateRequest({ expression: 'values', frameId: top.id, context: 'hover' });
        assert.strictEqual(hover.body.result, '[1, 2, 3]');
    });

    it('describes the exception', async () => {
        const info = (await dc.exceptionInfoRequest({ threadId: stoppedThread })).body;
        assert.match(info.exceptionId, /ZeroDivisionError/);
        assert.match(info.description ?? '', /division by zero/);
        assert.strictEqual(info.breakMode, 'unhandled');
        assert.match(info.details?.stackTrace ?? '', /crash\.py/);
    });
});

describe('tbdap over a TCP port', { timeout: 60_000 }, () => {
    let server: cp.ChildProcess | undefined;
    let dc: DebugClient | undefined;

    after(async () => {
        await dc?.stop();
        server?.kill();
    });

    it('attaches to `python -m tbdap --port N DUMP` and stops at the exception', async () => {
        let port: number;
        ({ server, port } = await startServer(crashDump));
        const client = dc = new DebugClient(PYTHON, '-mtbdap', 'tbdump');
        await client.start(port);
        await client.initializeRequest();
        const [, , stopped] = await Promise.all([
            // (configurationSequence() only sends configurationDone after launch())
            client.waitForEvent('initialized').then(() => client.configurationDoneRequest()),
            client.attachRequest({ host: '127.0.0.1', port } as DebugProtocol.AttachRequestArguments),
            client.waitForEvent('stopped', TIMEOUT),
        ]);
        const body = (stopped as DebugProtocol.StoppedEvent).body;
        assert.strictEqual(body.reason, 'exception');
        const [top] = await frames(client, body.threadId!);
        assert.strictEqual(top.name, 'average');
        assert.strictEqual(top.line, markedLine(crashProgram, 'crash'));
        assert.strictEqual(byName(await scopeVariables(client, top.id, 'Locals'), 'total').value, '0');
        const info = (await client.exceptionInfoRequest({ threadId: body.threadId! })).body;
        assert.strictEqual(info.breakMode, 'unhandled');
    });

    it('accepts "launch" with the dump, as VS Code sends it for "debugServer": N', async () => {
        await dc?.stop();
        server?.kill();
        let port: number;
        ({ server, port } = await startServer(crashDump));
        dc = new DebugClient(PYTHON, '-mtbdap', 'tbdump');
        await dc.start(port);
        const stopped = await launchAndStop(dc, { dumpFile: crashDump });
        assert.strictEqual(stopped.reason, 'exception');
        const [top] = await frames(dc, stopped.threadId!);
        assert.strictEqual(top.name, 'average');
    });
});

describe('tbdap on a bad dump', { timeout: 60_000 }, () => {
    // What VS Code shows for the launch: the path, and why it cannot be opened, in one line.
    const cases = [
        ['a file that is not a dump', 'bad-text.pkl', 'this is not a dump\n', 'not a tbdump file (it looks like a text file)'],
        ['a missing file', 'bad-missing.pkl', undefined, 'no such file'],
    ] as const;
    for (const [what, name, content, why] of cases) {
        it(`answers launch of ${what} with one clear error, not a traceback`, async () => {
            const dump = path.join(work, name);
            if (content !== undefined) {
                fs.writeFileSync(dump, content);
            }
            const dc = await stdioClient();
            try {
                await dc.initializeRequest();
                await assert.rejects(dc.launchRequest({ dumpFile: dump } as DebugProtocol.LaunchRequestArguments),
                    { message: `${dump}: ${why}` });
            } finally {
                await dc.stop();
            }
        });
    }
});

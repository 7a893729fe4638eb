// The launch and attach arguments of the "tbdump" debug type, typed.
//
// These interfaces mirror `contributes.debuggers[0].configurationAttributes`
// in package.json: the two must match. Whatever is added to one is added to
// the other (and to tbdap's launch/attach handlers, which read the same names).

import * as path from 'path';
import type * as vscode from 'vscode';

/** One entry of `pathMappings`: a folder as the dump recorded it, and here. */
export interface PathMapping {
    localRoot: string;
    remoteRoot: string;
}

/** Options that launch and attach share; tbdap reads them from either request. */
interface CommonArgs {
    pathMappings?: PathMapping[];
    /** As in debugpy: `__exception__` in the innermost frame of the program (true) or in the one that raised (false). */
    justMyCode?: boolean;
    /** Previews only: nothing is unpickled from the dump; evaluate answers names, attributes, items by a literal key and len() from them. */
    safe?: boolean;
}

/** `"request": "launch"`: the extension starts `python -m tbdap` over stdio. */
export interface LaunchArgs extends CommonArgs {
    /** The dump file; `${command:tbdump.pickDumpFile}` asks for one. */
    dumpFile: string;
    /** The interpreter that runs tbdap (tbdump must be installed in it). */
    python?: string;
}

/** `"request": "attach"`: connect to a running `python -m tbdap --port N DUMP`. */
export interface AttachArgs extends CommonArgs {
    host?: string;
    port: number;
}

export type TbdumpConfiguration = vscode.DebugConfiguration & (
    ({ request: 'launch' } & LaunchArgs) | ({ request: 'attach' } & AttachArgs)
);

export const DEBUG_TYPE = 'tbdump';
export const PICK_DUMP_COMMAND = 'tbdump.pickDumpFile';
export const OPEN_DUMP_COMMAND = 'tbdump.openDumpFile';
export const DEFAULT_HOST = '127.0.0.1';
/** Set by "Open tbdump file" (never sent to tbdap): show Run and Debug once the session is sure to start. */
export const SHOW_RUN_VIEW = '__tbdumpShowRunView';

/**
 * The configuration "Open tbdump file" starts for one dump, no launch.json needed. The session is
 * named after the dump, so CALL STACK says which dump each of several open sessions shows.
 */
export function launchConfigurationFor(dumpFile: string): vscode.DebugConfiguration {
    return { type: DEBUG_TYPE, request: 'launch', name: `tbdump: ${path.basename(dumpFile)}`, dumpFile };
}

// The "tbdump" output channel: adapter command lines, adapter stderr, failures.

import * as vscode from 'vscode';

let channel: vscode.OutputChannel | undefined;

/** The one output channel of the extension, created on first use. */
export function output(): vscode.OutputChannel {
    if (!channel) {
        channel = vscode.window.createOutputChannel('tbdump');
    }
    return channel;
}

/** Appends one timestamped line to the channel. */
export function log(message: string): void {
    const time = new Date().toISOString().slice(11, 23);
    output().appendLine(`[${time}] ${message}`);
}

/** Shows an error notification with a "Show Output" button that opens the channel. */
export async function showError(message: string): Promise<void> {
    log(`error: ${message}`);
    const choice = await vscode.window.showErrorMessage(message, 'Show Output');
    if (choice === 'Show Output') {
        output().show(true);
    }
}

export function disposeOutput(): void {
    channel?.dispose();
    channel = undefined;
}

/** One-line notes some commands print on stderr besides their reporter's output. */
export const nothingToRetryLine = (dbPath: string) => `speechflow: nothing to retry: no failed files in ${dbPath}\n`;

export const werAboveMaxLine = (wer: number, maxWer: number) => `speechflow: WER ${(wer * 100).toFixed(2)}% is above --max-wer ${(maxWer * 100).toFixed(2)}%\n`;

/** sysexits-style exit codes. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 64, CONFIG: 78 } as const;

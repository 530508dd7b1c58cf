/** This tool's version and the Kamal release whose behaviour it follows. */
export const KAMAL_ACTION_VERSION = '0.1.0';
export const KAMAL_COMPAT_VERSION = '2.12.0';

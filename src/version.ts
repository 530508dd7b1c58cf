/** This tool's version and the Kamal release whose behaviour it follows. */
import { KAMAL_VERSION } from './config/constants.js';

export const KAMAL_ACTION_VERSION = '0.1.0';
export const KAMAL_COMPAT_VERSION = KAMAL_VERSION;

/** The version `ocifs --version` prints and metrics report (kept equal to package.json's). */
export const VERSION = '0.1.0';

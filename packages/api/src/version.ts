/** tswarm's release version; bump with package.json. */
export const TSWARM_VERSION = '0.1.0';

/** The wire contract's version; bump when proto/ changes incompatibly. */
export const API_VERSION = '1.0';

export * from './errors.js';
export * from './classification.js';
export * from './config.schema.js';
export * from './identity.schema.js';
export * from './alerts.schema.js';
export * from './audit.schema.js';
export * from './meetings.schema.js';
export * from './leakcheck.schema.js';

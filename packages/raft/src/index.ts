export {};
export * from './transport/index.js';

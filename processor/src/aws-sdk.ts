/**
 * The AWS SDK modules, loaded on first use rather than when the processor starts: a local run (the
 * CLI on files) never touches them, and loading them costs ~0.1 s of start-up. In the bundle each
 * `require` is esbuild's lazily initialised copy of the module; in tsx and jest it is Node's.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const s3Sdk = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3');
export const storageSdk = (): typeof import('@aws-sdk/lib-storage') => require('@aws-sdk/lib-storage');
export const dynamoSdk = (): typeof import('@aws-sdk/client-dynamodb') => require('@aws-sdk/client-dynamodb');
export const documentSdk = (): typeof import('@aws-sdk/lib-dynamodb') => require('@aws-sdk/lib-dynamodb');
export const snsSdk = (): typeof import('@aws-sdk/client-sns') => require('@aws-sdk/client-sns');
/** The container role's job module (DynamoDB, SNS), for main.ts. */
export const jobModule = (): typeof import('./job') => require('./job');
/* eslint-enable @typescript-eslint/no-require-imports */

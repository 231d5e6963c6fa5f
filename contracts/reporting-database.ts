/**
 * The reporting database: the schema name the Aurora cluster is created with (stacks/reporting/aurora.ts),
 * which the reporting functions receive as DB_NAME and the local run creates in MariaDB. Pure constant.
 */
export const DATABASE_NAME = 'reporting';

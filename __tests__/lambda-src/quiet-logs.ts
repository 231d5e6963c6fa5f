// Imported first by the handler tests: loggers read the level when the handler modules load.
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';

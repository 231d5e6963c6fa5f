/**
 * The reporting schema as ordered, versioned migrations. Append only: a released migration never
 * changes (its checksum is recorded and verified), fixes go in a new version. Every statement runs on
 * MariaDB 10.11 and Aurora MySQL 8.0; DDL auto-commits on both, so each migration is recorded only
 * after all its statements succeeded and every statement is written to be safe to re-run
 * (IF NOT EXISTS) in case a migration died half-way.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'transactions, report_log, delivery_log',
    statements: [
      `CREATE TABLE IF NOT EXISTS transactions (
        transaction_id VARCHAR(64) NOT NULL,
        account_id VARCHAR(34) NOT NULL,
        entity_id VARCHAR(40) NOT NULL,
        amount DECIMAL(19,4) NOT NULL,
        amount_minor BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        \`timestamp\` DATETIME(3) NOT NULL COMMENT 'UTC',
        counterparty VARCHAR(140) NULL,
        jurisdiction VARCHAR(8) NOT NULL,
        report_type VARCHAR(16) NOT NULL,
        run_id VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (transaction_id),
        KEY idx_report_query (jurisdiction, report_type, entity_id, \`timestamp\`),
        KEY idx_run (run_id),
        CONSTRAINT chk_transactions_amount CHECK (amount > 0 AND amount_minor > 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
      `CREATE TABLE IF NOT EXISTS report_log (
        report_id VARCHAR(200) NOT NULL,
        jurisdiction VARCHAR(8) NOT NULL,
        report_type VARCHAR(16) NOT NULL,
        entity_id VARCHAR(40) NOT NULL,
        report_date DATE NOT NULL,
        status VARCHAR(24) NOT NULL,
        framework VARCHAR(32) NULL,
        framework_version VARCHAR(8) NULL,
        s3_bucket VARCHAR(63) NULL,
        s3_key VARCHAR(512) NULL,
        sha256 CHAR(64) NULL,
        transaction_count INT NULL,
        validation_errors TEXT NULL,
        validation_warnings TEXT NULL,
        recipient VARCHAR(254) NULL,
        message_id VARCHAR(255) NULL,
        failed_stage VARCHAR(16) NULL,
        error_name VARCHAR(128) NULL,
        error_cause VARCHAR(1000) NULL,
        generated_at DATETIME(3) NULL,
        validated_at DATETIME(3) NULL,
        delivered_at DATETIME(3) NULL,
        confirmed_at DATETIME(3) NULL,
        failed_at DATETIME(3) NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (report_id),
        KEY idx_report_log_status (status),
        KEY idx_report_log_jurisdiction_date (jurisdiction, report_date),
        KEY idx_report_log_date (report_date),
        KEY idx_report_log_message (message_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
      `CREATE TABLE IF NOT EXISTS delivery_log (
        id BIGINT NOT NULL AUTO_INCREMENT,
        report_id VARCHAR(200) NOT NULL,
        event VARCHAR(16) NOT NULL,
        recipient VARCHAR(254) NULL,
        message_id VARCHAR(255) NOT NULL,
        method VARCHAR(16) NOT NULL DEFAULT 'SES',
        occurred_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_delivery_event (message_id, event),
        KEY idx_delivery_report (report_id),
        CONSTRAINT fk_delivery_report FOREIGN KEY (report_id) REFERENCES report_log (report_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 2,
    name: 'run_load: one row per loaded nightly run (the gate report-generate checks)',
    statements: [
      // Written by report-loader inside the run's load transaction, so a row exists exactly when the
      // run's rows are committed. report_date is NULL for a run id that feeds no report date
      // (domain/reporting/run-dates.ts). loaded_at is the first load; a re-load sets reloaded_at.
      `CREATE TABLE IF NOT EXISTS run_load (
        run_id VARCHAR(64) NOT NULL,
        report_date DATE NULL,
        row_count BIGINT NOT NULL,
        shard_count INT NOT NULL,
        uncommitted_shards INT NOT NULL DEFAULT 0,
        run_completed_at DATETIME(3) NULL COMMENT 'UTC, the run record completedAt',
        loaded_at DATETIME(3) NOT NULL COMMENT 'UTC',
        reloaded_at DATETIME(3) NULL COMMENT 'UTC',
        PRIMARY KEY (run_id),
        KEY idx_run_load_date (report_date)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 3,
    name: 'delivery_log: delivery mode, requested mode and the SHA-256 sent',
    // One row per SES message and event as before; report-deliver sends one message per recipient, so
    // recipient + message_id + sha256 + mode say who got which content how. NULL in rows written before.
    statements: [
      ...addColumnIfMissing('delivery_log', 'mode', "VARCHAR(16) NULL COMMENT 'attachment or s3-access: how the report was delivered'"),
      ...addColumnIfMissing('delivery_log', 'requested_mode', "VARCHAR(16) NULL COMMENT 'the recipient''s configured mode (differs after a fallback)'"),
      ...addColumnIfMissing('delivery_log', 'sha256', "CHAR(64) NULL COMMENT 'SHA-256 of the report content the message carried or named'"),
    ],
  },
  {
    version: 4,
    name: 'run_load: exact run totals across shards (read, accepted, rejected, duplicates, per-currency totals)',
    // Written by report-loader with the rows, from the shards' commit records less the cross-shard
    // duplicates it skipped (checked against what it loaded). NULL in rows written before.
    statements: [
      ...addColumnIfMissing('run_load', 'read_count', "BIGINT NULL COMMENT 'records read by every shard of the run'"),
      ...addColumnIfMissing('run_load', 'accepted_count', "BIGINT NULL COMMENT 'distinct accepted records of the run (= rows loaded)'"),
      ...addColumnIfMissing('run_load', 'rejected_count', "BIGINT NULL COMMENT 'records rejected by the shards'"),
      ...addColumnIfMissing('run_load', 'shard_duplicates', "BIGINT NULL COMMENT 'duplicates each shard found within itself'"),
      ...addColumnIfMissing('run_load', 'cross_shard_duplicates', "BIGINT NULL COMMENT 'later occurrences of an id accepted in an earlier shard or file of the run (not loaded)'"),
      ...addColumnIfMissing('run_load', 'totals_by_currency', "TEXT NULL COMMENT 'JSON {currency: {count, amountMinor}}, minor units as strings'"),
      ...addColumnIfMissing('run_load', 'run_summary_sha256', "CHAR(64) NULL COMMENT 'SHA-256 of processed/<run>/run-summary.json'"),
    ],
  },
];

/**
 * `ALTER TABLE ... ADD COLUMN` that is safe to re-run on both engines (Aurora MySQL 8.0 has no
 * `ADD COLUMN IF NOT EXISTS`): the statement is chosen from information_schema and run as a prepared
 * statement on the migration's one connection. Its output is part of released checksums: never change it.
 */
function addColumnIfMissing(table: string, column: string, definition: string): string[] {
  return [
    `SET @ddl = (SELECT IF(COUNT(*) = 0, 'ALTER TABLE ${table} ADD COLUMN ${column} ${definition.replace(/'/g, "''")}', 'DO 0')
      FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${table}' AND column_name = '${column}')`,
    'PREPARE ddl_statement FROM @ddl',
    'EXECUTE ddl_statement',
    'DEALLOCATE PREPARE ddl_statement',
  ];
}

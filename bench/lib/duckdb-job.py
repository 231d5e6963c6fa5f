"""
The processor's night job done by DuckDB, as the benchmark's peer (bench/processor.ts):
  python duckdb-job.py <input.csv> <accepted.jsonl>
Parses the CSV, validates formats, allow-lists and the amount limit, de-duplicates by transactionId
(first occurrence kept), computes exact per-currency totals (HUGEINT minor units) and writes the
accepted rows as JSON Lines. Differences from the processor: no card-number (Luhn) scan; structurally
broken lines are skipped (ignore_errors) rather than counted per line; no rejects file, per-account
totals, fingerprints or output hashes; DuckDB's own JSON field order.
"""
import sys

import duckdb

src, out = sys.argv[1], sys.argv[2]
COLUMNS = ['transactionId', 'accountId', 'entityId', 'amount', 'currency', 'timestamp', 'counterparty', 'jurisdiction', 'type', 'cardLast4']
con = duckdb.connect()
con.execute(
    # Dialect and columns given, not sniffed: a sample with damaged lines can fool the sniffer.
    "CREATE TEMP TABLE raw AS SELECT row_number() OVER () AS rn, * FROM read_csv(?, header=true, delim=',', quote='\"', escape='\"', "
    "columns={" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}, auto_detect=false, strict_mode=false, ignore_errors=true, max_line_size=4194304)",
    [src],
)
con.execute(r"""
CREATE TEMP TABLE valid AS
SELECT rn, transactionId, accountId, entityId, currency, timestamp, counterparty, jurisdiction, type, cardLast4,
       CAST(amount AS DECIMAL(38, 2)) AS amt,
       CASE currency WHEN 'JPY' THEN 1 ELSE 100 END AS unit
FROM raw
WHERE regexp_full_match(transactionId, '[A-Za-z0-9_-]{1,64}')
  AND regexp_full_match(accountId, '[A-Za-z0-9-]{1,34}')
  AND regexp_full_match(entityId, '[A-Z0-9-]{2,40}')
  AND currency IN ('USD', 'EUR', 'GBP', 'JPY')
  AND (CASE currency WHEN 'JPY' THEN regexp_full_match(amount, '(0|[1-9][0-9]*)')
                     ELSE regexp_full_match(amount, '(0|[1-9][0-9]*)(\.[0-9]{1,2})?') END)
  AND regexp_full_match(timestamp, '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})')
  AND try_cast(timestamp AS TIMESTAMPTZ) IS NOT NULL
  AND (counterparty IS NULL OR (length(counterparty) <= 140 AND NOT regexp_matches(counterparty, '[\x00-\x1f\x7f]')))
  AND jurisdiction IN ('EU', 'US', 'UK', 'APAC')
  AND type IN ('TRANSACTION', 'POSITION', 'COLLATERAL', 'MARGIN')
  AND (cardLast4 IS NULL OR regexp_full_match(cardLast4, '[0-9]{4}'))
""")
con.execute("""
CREATE TEMP TABLE accepted AS
SELECT *, CAST(amt * unit AS HUGEINT) AS minor FROM valid
WHERE amt > 0 AND amt <= 1000000
QUALIFY row_number() OVER (PARTITION BY transactionId ORDER BY rn) = 1
""")
con.execute(
    "COPY (SELECT transactionId, accountId, entityId, CASE unit WHEN 1 THEN CAST(CAST(amt AS DECIMAL(38, 0)) AS VARCHAR) ELSE CAST(amt AS VARCHAR) END AS amount, "
    "CAST(minor AS VARCHAR) AS amountMinor, currency, timestamp, counterparty, jurisdiction, type, cardLast4 "
    "FROM accepted ORDER BY rn) TO '" + out.replace("'", "''") + "' (FORMAT JSON)"
)
totals = con.execute("SELECT currency, count(*), CAST(sum(minor) AS VARCHAR) FROM accepted GROUP BY currency ORDER BY currency").fetchall()
read = con.execute("SELECT count(*) FROM raw").fetchone()[0]
print({"read": read, "accepted": sum(t[1] for t in totals), "totalsMinor": {t[0]: t[2] for t in totals}})

"""Synth rows per second against a plain bulk insert, in one process and database.

Run by bench/run.py as ``python -m bench.synth_bench --seed N`` with the
scratch database in DATABASE_URL; prints one JSON object.

- synth: ``wenming.demo.synth.generate`` at street scale, end to end (its
  row generation, encryption of ID numbers, COPY or executemany, commit);
- baseline: the same number of rows, generated trivially, written the same
  way (COPY on PostgreSQL, executemany in one transaction on SQLite) into a
  narrow scratch table with a primary key and nothing else.

The ratio says what the generator's consistency costs over the raw path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_TABLE = "bench_narrow"
SQLITE_BATCH = 20_000


def baseline(rows: int) -> float:
    """Seconds to generate and insert ``rows`` narrow rows, committed."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        cursor.execute(
            f"CREATE TABLE {SCRATCH_TABLE} (id bigint PRIMARY KEY, n bigint NOT NULL, label varchar(40) NOT NULL)"
        )
    started = time.perf_counter()
    with transaction.atomic():
        raw = connection.connection
        assert raw is not None
        generated = ((i, i * 7 % 1000, f"row-{i}") for i in range(1, rows + 1))
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {SCRATCH_TABLE} (id, n, label) FROM STDIN") as copy:
                for row in generated:
                    copy.write_row(row)
        else:
            cursor = raw.cursor()
            batch: list[tuple[int, int, str]] = []
            for row in generated:
                batch.append(row)
                if len(batch) >= SQLITE_BATCH:
                    cursor.executemany(f"INSERT INTO {SCRATCH_TABLE} (id, n, label) VALUES (?, ?, ?)", batch)  # noqa: S608
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {SCRATCH_TABLE} (id, n, label) VALUES (?, ?, ?)", batch)  # noqa: S608
            cursor.close()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {SCRATCH_TABLE}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", default="street")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    import django

    django.setup()
    from wenming.demo import synth

    stats = synth.generate(synth.SCALES[args.scale], seed=args.seed)
    base_seconds = baseline(stats.total)
    print(
        json.dumps(
            {
                "scale": args.scale,
                "rows": stats.total,
                "tables": stats.rows,
                "synth_seconds": stats.seconds,
                "synth_rps": stats.rows_per_second,
                "baseline_seconds": base_seconds,
                "baseline_rps": stats.total / base_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()

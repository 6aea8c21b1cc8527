#!/usr/bin/env node
// Makes sure PostgreSQL answers and the countersign database exists. Each service migrates its
// own schema at start; this only creates the database.
const { Client } = require('pg');

const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/countersign');
const dbName = url.pathname.replace(/^\//, '') || 'countersign';
const admin = new URL(url.toString());
admin.pathname = '/postgres';

async function main() {
  const c = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (e) {
    console.error(
      `PostgreSQL is not reachable at ${admin.host} as ${admin.username || 'postgres'}: ${e.message}\n` +
        `  Start it (on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start),\n` +
        `  or point DATABASE_URL at a server you can reach (postgres://user@host:port/countersign).`,
    );
    process.exit(1);
  }
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (r.rowCount === 0) {
      await c.query(`CREATE DATABASE "${dbName.replace(/"/g, '')}"`);
      console.log(`postgres: created database ${dbName} on ${admin.host}`);
    } else {
      console.log(`postgres: database ${dbName} ready on ${admin.host}`);
    }
  } finally {
    await c.end();
  }
}

main().catch((e) => {
  console.error(`could not prepare the database: ${e.message}`);
  process.exit(1);
});

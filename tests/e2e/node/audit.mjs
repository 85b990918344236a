// Runs graphql-http's GraphQL-over-HTTP server audit (auditServer) against one
// URL and prints every result as JSON (tests/e2e/test_graphql_http_audit.py
// judges them).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const plain = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
process.stdout.write(JSON.stringify(plain));

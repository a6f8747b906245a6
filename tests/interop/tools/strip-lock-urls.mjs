// Removes the "funding" fields (sponsor URLs copied from dependencies' package.json files) from
// package-lock.json, so the lockfile names no URL or host at all. .npmrc already keeps npm from
// writing "resolved" URLs; this fails if one is there anyway. `npm ci` does not read either field.
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const [name, entry] of Object.entries(lock.packages ?? {})) {
  delete entry.funding;
  if (entry.resolved !== undefined) {
    console.error(`${name} has a "resolved" field: is omit-lockfile-registry-resolved=true in .npmrc?`);
    process.exit(1);
  }
}
const text = `${JSON.stringify(lock, null, 2)}\n`;
const urls = text.match(/[a-z][a-z0-9+.-]*:\/\/[^"\s]*/gi);
if (urls) {
  console.error(`package-lock.json still names URLs: ${urls.join(', ')}`);
  process.exit(1);
}
fs.writeFileSync(file, text);

// Reads every TRX file under the given folder and prints one line: "N passed, N failed, N skipped".
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2] ?? "TestResults";
let passed = 0, failed = 0, skipped = 0, files = 0;
const walk = (d) => {
  if (!fs.existsSync(d)) return;
  for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
    const full = path.join(d, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith(".trx")) {
      files++;
      const xml = fs.readFileSync(full, "utf8");
      for (const m of xml.matchAll(/<UnitTestResult\b[^>]*\boutcome="(\w+)"/g)) {
        if (m[1] === "Passed") passed++;
        else if (m[1] === "NotExecuted") skipped++;
        else failed++;
      }
    }
  }
};
walk(dir);
if (files === 0) {
  console.error(`no TRX files under ${dir}`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);

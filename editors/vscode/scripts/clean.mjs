// Removes build folders given as arguments (so deleted tests do not linger in out/).
import { rmSync } from "node:fs";

for (const dir of process.argv.slice(2)) {
  rmSync(dir, { recursive: true, force: true });
}

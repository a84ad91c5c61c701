/**
 * wrk takes one Lua script per run: the scenario's request script with the
 * shared result printer (bench/wrk/report.lua, the WRK_RESULT line the
 * benchmarks parse) appended, written once per scenario into `dir`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WRK_DIR = fileURLToPath(new URL("../wrk/", import.meta.url));
const written = new Map();

/** The path of `<dir>/<name>.lua`: bench/wrk/<script> followed by bench/wrk/report.lua. */
export function wrkScript(dir, name, script) {
  const key = `${dir}\0${name}`;
  let file = written.get(key);
  if (file === undefined) {
    file = join(dir, `${name}.lua`);
    const body = readFileSync(join(WRK_DIR, script), "utf8");
    writeFileSync(file, `${body}\n${readFileSync(join(WRK_DIR, "report.lua"), "utf8")}`);
    written.set(key, file);
  }
  return file;
}

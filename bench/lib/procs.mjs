/**
 * The processes a benchmark run starts, tracked by pid so that each one (and
 * only those) is stopped on exit, on SIGINT/SIGTERM and on the run's time limit.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** pid -> { name, child, extra: pids of its children we know of (nginx's worker) } */
const tracked = new Map();

/** Spawn and track a process; its stdout is read line by line (see `lines`). */
export function spawnTracked(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
  const entry = { name, child, extra: [], exited: false, stderr: "", waiters: [], lines: [] };
  if (child.pid === undefined) {
    throw new Error(`cannot start ${name}: ${command} ${args.join(" ")}`);
  }
  tracked.set(child.pid, entry);
  child.on("exit", (code, signal) => {
    entry.exited = true;
    entry.exitCode = code;
    entry.exitSignal = signal;
    tracked.delete(child.pid);
    for (const w of entry.waiters.splice(0)) w.reject(new Error(`${name} exited (${code ?? signal}) ${entry.stderr.slice(-500)}`));
  });
  child.on("error", () => {});
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    entry.stderr = (entry.stderr + d).slice(-4000);
  });
  const rl = createInterface({ input: child.stdout });
  rl.on("line", (line) => {
    const w = entry.waiters.findIndex((x) => line.startsWith(x.prefix));
    if (w >= 0) {
      const [waiter] = entry.waiters.splice(w, 1);
      clearTimeout(waiter.timer);
      waiter.resolve(line.slice(waiter.prefix.length).trim());
    } else {
      entry.lines.push(line);
      if (entry.lines.length > 200) entry.lines.shift();
    }
  });
  child.stdin.on("error", () => {});
  return entry;
}

/** The next stdout line of `entry` that starts with `prefix` (the rest of it), or a rejection after `ms`. */
export function nextLine(entry, prefix, ms) {
  return new Promise((resolve, reject) => {
    if (entry.exited) {
      reject(new Error(`${entry.name} has exited ${entry.stderr.slice(-500)}`));
      return;
    }
    const waiter = { prefix, resolve, reject, timer: null };
    waiter.timer = setTimeout(() => {
      const i = entry.waiters.indexOf(waiter);
      if (i >= 0) entry.waiters.splice(i, 1);
      reject(new Error(`${entry.name}: no "${prefix}" line within ${ms} ms ${entry.stderr.slice(-500)}`));
    }, ms);
    entry.waiters.push(waiter);
  });
}

/** Resolve when the process has exited, or after `ms` (false then). */
export function waitExit(entry, ms) {
  if (entry.exited) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    entry.child.once("exit", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Is `pid` still the process we started (same start time), and not a recycled pid? */
function stillOurs(pid, startTicks) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return startTicks === undefined || procStartTicks(stat) === startTicks;
  } catch {
    return false;
  }
}

function procStartTicks(stat) {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 of proc(5): starttime
}

/** Remember a process started by a tracked one (nginx's worker), to stop it too. */
export function trackExtra(entry, pid) {
  try {
    const startTicks = procStartTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
    entry.extra.push({ pid, startTicks });
  } catch {}
}

/** Stop one tracked process: `signal`, then SIGKILL after `graceMs`; its known children too. */
export async function stop(entry, signal = "SIGTERM", graceMs = 3000) {
  if (!entry.exited) {
    try {
      entry.child.stdin.end();
    } catch {}
    try {
      process.kill(entry.child.pid, signal);
    } catch {}
    if (!(await waitExit(entry, graceMs))) {
      try {
        process.kill(entry.child.pid, "SIGKILL");
      } catch {}
      await waitExit(entry, 1000);
    }
  }
  for (const { pid, startTicks } of entry.extra) {
    if (stillOurs(pid, startTicks)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
}

/** Stop everything still running (async, graceful first). */
export async function stopAll() {
  await Promise.all([...tracked.values()].map((e) => stop(e, "SIGTERM", 2000)));
}

/** Synchronous last resort on process exit: SIGKILL every tracked pid. */
export function killAllSync() {
  for (const [pid, entry] of tracked) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    for (const x of entry.extra) {
      if (stillOurs(x.pid, x.startTicks)) {
        try {
          process.kill(x.pid, "SIGKILL");
        } catch {}
      }
    }
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or null. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of `pid` in clock ticks (1/100 s on Linux), or null. */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** The pids of a process's children. */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Per-core [busy, total] jiffies from /proc/stat, indexed by core number. */
export function coreTimes() {
  const out = [];
  try {
    for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const v = m[2].trim().split(/\s+/).map(Number);
      const idle = v[3] + (v[4] ?? 0); // idle + iowait
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is inside user)
      out[Number(m[1])] = [total - idle, total];
    }
  } catch {}
  return out;
}

/** Busy fraction of each core between two coreTimes() readings. */
export function coreBusy(before, after) {
  return after.map((a, i) => {
    const b = before[i];
    if (!a || !b || a[1] === b[1]) return null;
    return (a[0] - b[0]) / (a[1] - b[1]);
  });
}

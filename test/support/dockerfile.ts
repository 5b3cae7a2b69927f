/**
 * Performs a Dockerfile's stages without Docker (these machines cannot run it):
 * each stage is a folder standing for its filesystem root, COPY copies from the
 * build context (minus .dockerignore) or an earlier stage, RUN runs in the
 * stage's WORKDIR, ENV and CMD are kept for the caller to start the image's
 * process. Whatever the Dockerfile says is what the test does, so the two
 * cannot drift apart; an instruction this does not know fails the test.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { join, posix } from "node:path";

/** One stage once performed. */
export interface Stage {
  name: string;
  /** The folder standing for the stage's `/`. */
  root: string;
  /** WORKDIR, as an absolute path inside the stage. */
  workdir: string;
  env: Record<string, string>;
  /** Exec-form CMD and HEALTHCHECK CMD, as written. */
  cmd?: string[];
  healthcheck?: string[];
  user?: string;
  exposed: number[];
}

/** Instructions of one stage: keyword and the rest of the line (continuations joined). */
type Instruction = [keyword: string, args: string];

/** A RUN performed another way: the instruction's exact text, and what to do instead in the stage's WORKDIR. */
export type RunSubstitute = (cwd: string, stage: Stage) => void;

/** Parses the Dockerfile into stages of instructions. */
export function parseDockerfile(text: string): { from: string; name: string; body: Instruction[] }[] {
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const stages: { from: string; name: string; body: Instruction[] }[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const kw = keyword!.toUpperCase();
    if (kw === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!)!;
      stages.push({ from: m[1]!, name: m[2] ?? String(stages.length), body: [] });
    } else {
      stages.at(-1)!.body.push([kw, args!]);
    }
  }
  return stages;
}

const execForm = (args: string): string[] => {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
};

/** Performs every stage of `dockerfile` with `context` as the build context, under `out`; returns the stages by name. */
export function buildStages(dockerfile: string, context: string, out: string, substitutes: Record<string, RunSubstitute> = {}): Map<string, Stage> {
  const ignoreFile = join(context, ".dockerignore");
  const ignored = new Set(existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")) : []);
  const stages = new Map<string, Stage>();
  for (const spec of parseDockerfile(readFileSync(dockerfile, "utf8"))) {
    const stage: Stage = { name: spec.name, root: join(out, `stage-${spec.name}`), workdir: "/", env: {}, exposed: [] };
    mkdirSync(stage.root, { recursive: true });
    const inStage = (p: string) => join(stage.root, posix.resolve(stage.workdir, p));
    for (const [kw, args] of spec.body) {
      switch (kw) {
        case "WORKDIR":
          stage.workdir = posix.resolve(stage.workdir, args);
          mkdirSync(inStage("."), { recursive: true });
          break;
        case "ENV":
          for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[k!] = v!;
          break;
        case "COPY": {
          const words = args.split(/\s+/);
          const from = words[0]!.startsWith("--from=") ? stages.get(words.shift()!.slice("--from=".length)) : undefined;
          const dest = words.pop()!;
          for (const src of words) {
            const source = from ? join(from.root, posix.resolve(from.workdir, src)) : join(context, src);
            if (!from && ignored.has(src.replace(/^\.\//, "").replace(/\/$/, ""))) throw new Error(`COPY ${src}: excluded by .dockerignore`);
            const target = dest.endsWith("/") ? join(inStage(dest), posix.basename(src)) : inStage(dest);
            cpSync(source, target, { recursive: true, verbatimSymlinks: true, filter: (p) => from !== undefined || !ignored.has(posix.relative(context, p).split("/")[0]!) });
          }
          break;
        }
        case "RUN": {
          const cwd = inStage(".");
          const substitute = substitutes[args];
          if (substitute) substitute(cwd, stage);
          else execFileSync("sh", ["-c", args], { cwd, env: { ...process.env, ...stage.env }, stdio: "pipe" });
          break;
        }
        case "USER":
          stage.user = args;
          break;
        case "EXPOSE":
          stage.exposed.push(...args.split(/\s+/).map(Number));
          break;
        case "CMD":
          stage.cmd = execForm(args);
          break;
        case "HEALTHCHECK":
          stage.healthcheck = execForm(args.replace(/^(--\S+\s+)*CMD\s+/, ""));
          break;
        default:
          throw new Error(`Dockerfile instruction ${kw} is not understood by test/support/dockerfile.ts`);
      }
    }
    stages.set(spec.name, stage);
  }
  return stages;
}

/** A substitute for a stage's full `npm ci`: the repository's own node_modules, once the lockfiles are shown equal. */
export function reuseInstalledModules(repo: string): RunSubstitute {
  return (cwd) => {
    if (readFileSync(join(cwd, "package-lock.json"), "utf8") !== readFileSync(join(repo, "package-lock.json"), "utf8")) {
      throw new Error("the stage's package-lock.json differs from the repository's: its npm ci cannot be reused");
    }
    symlinkSync(join(repo, "node_modules"), join(cwd, "node_modules"), "dir");
  };
}

/** Every file under `dir` (relative paths), for before/after comparisons. */
export function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

/**
 * `--import` this to record every module URL the process resolves into the file
 * named by NATSGATE_IMPORT_LOG: how tests prove what a process never loads.
 */
import { register } from "node:module";

register(new URL("./record-imports-hooks.mjs", import.meta.url), { data: { file: process.env.NATSGATE_IMPORT_LOG } });

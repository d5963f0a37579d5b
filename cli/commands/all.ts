// Every `r2-backup` command, in the order the main help lists them.
import type { Command } from '../command.js';
import { drill } from './drill.js';
import { keygen } from './keygen.js';
import { list } from './list.js';
import { prune } from './prune.js';
import { rekey } from './rekey.js';
import { replay } from './replay.js';
import { restore } from './restore.js';
import { sweep } from './sweep.js';
import { token } from './token.js';
import { verify } from './verify.js';

export const COMMANDS: Command[] = [list, restore, replay, verify, prune, sweep, drill, token, keygen, rekey];

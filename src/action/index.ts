/**
 * The action's one bundle, for both steps (action.yml runs it as `main` and as `post`).
 * The main step saves the `isPost` state before anything else, so the runner hands it to
 * the post step; its presence is what tells the post step from the main one.
 */
import '../esm-globals.js';
import * as core from './workflow-commands.js';
import { mainStep } from './main.js';
import { postStep } from './post.js';

/** The state entry that marks the post step (saved unsigned: it carries no data the post step acts on). */
export const IS_POST = 'isPost';

if (core.getState(IS_POST) === 'true') {
  void postStep();
} else {
  core.saveState(IS_POST, 'true');
  void mainStep();
}

/** Keys shared by the main and post steps (state) and the step outputs. */

export enum State {
  /** "true" while the deploy lock taken by this run is held. */
  LockHeld = 'lock-held',
  /** Temp folder holding the SSH key and known_hosts files. */
  SshDir = 'ssh-dir',
  /** Registry server we logged in to locally (for `docker logout`). */
  RegistryLogin = 'registry-login',
  /** The deployment created for this run. */
  DeploymentId = 'deployment-id',
  /** "true" once the deployment got its final status. */
  DeploymentDone = 'deployment-done',
  /** "true" once the main step finished (not killed). */
  MainDone = 'main-done',
  /** Boots a cancelled rollout has yet to undo (JSON, cancel-undo.ts); empty when none. */
  PendingUndo = 'pending-undo',
}

export enum Outputs {
  Version = 'version',
  PreviousVersion = 'previous-version',
  Image = 'image',
  Hosts = 'hosts',
  Roles = 'roles',
  DeploymentId = 'deployment-id',
  DurationSeconds = 'duration-seconds',
  Report = 'report',
  /** `true` when a diff found something a deploy would change. */
  Changed = 'changed',
}

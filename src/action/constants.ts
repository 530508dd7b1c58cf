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
}

/** Environment variables the engine reads for SSH trust and identity. */
export const ENV_SSH_KEY = 'KAMAL_ACTION_SSH_KEY';
export const ENV_KNOWN_HOSTS = 'KAMAL_ACTION_KNOWN_HOSTS';
export const ENV_HOST_KEY_CHECKING = 'KAMAL_ACTION_HOST_KEY_CHECKING';

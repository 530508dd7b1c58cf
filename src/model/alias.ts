export class Alias {
  readonly name: string;
  readonly command: string;

  constructor(name: string, command: string) {
    this.name = name;
    this.command = command;
  }
}

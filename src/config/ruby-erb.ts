/**
 * Templates the built-in ERB evaluator does not know are rendered by Ruby's
 * own ERB, as Kamal renders them (`ERB.new(text, trim_mode: "-").result` in
 * Kamal::Configuration.load_config_file, `ERB.new(text).result` for accessory
 * files): one `ruby` process per file, with the load's environment and working
 * directory, the template on stdin.
 *
 * The Ruby side loads what Kamal's own process has loaded when it renders a
 * configuration (ERB, YAML, JSON, Pathname, Time, Date and, when this Ruby has
 * the gem, ActiveSupport's `blank?`/`present?` and friends). The output comes
 * back on file descriptor 3 as JSON: each piece of output with the template
 * line it came from (for the YAML error line map), and the variables the
 * template changed in ENV (`Dotenv.load`), which later files see as in Kamal.
 * What the template prints itself goes to stderr.
 *
 * Where the ERB of this Ruby loses the line breaks of a multi-line `<%# %>`
 * comment in its compiled code (Ruby 3.1's does), they are kept, so the line
 * numbers of errors and of the output stay the template's.
 */
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../errors.js';
import { findOnPath } from '../exec/path-search.js';

/** The environment a template sees (ENV), in both renderers. */
export type ErbEnv = Readonly<Record<string, string | undefined>>;

/** `"-"`: Kamal's configuration files. `null`: accessory files (`ERB.new(text)`). */
export type TrimMode = '-' | null;

/** The gems Kamal 2.12 depends on, so always loadable in Kamal's process. */
const KAMAL_GEMS = ['activesupport', 'dotenv', 'sshkit', 'net-ssh', 'thor', 'zeitwerk', 'concurrent-ruby', 'base64'];

/** Requires that map to a gem name other than their own. */
const GEM_OF: Record<string, string> = { active_support: 'activesupport', 'net/ssh': 'net-ssh', concurrent: 'concurrent-ruby' };

const SCRIPT = String.raw`
require "erb"
require "json"
%w[yaml tmpdir pathname uri time date].each { |lib| require lib }
$kamal_action_active_support = begin
  require "active_support"
  %w[object/blank string/inquiry hash/keys hash/deep_merge module/delegation array/conversions enumerable].each do |ext|
    require "active_support/core_ext/#{ext}"
  end
  require "active_support/ordered_options"
  true
rescue LoadError
  false
end

class KamalActionErbOutput
  attr_reader :chunks
  def initialize; @chunks = []; end
  def kamal_text(s); add(0, s); end
  def kamal_value(s); add(1, s); end
  def <<(s); add(1, s); end
  def to_s; @chunks.map(&:last).join; end
  private
  def add(kind, s)
    @chunks << [caller_locations(2, 1)[0].lineno, kind, KamalActionErbOutput.utf8(s.to_s)]
    self
  end
  def self.utf8(s)
    s = s.dup.force_encoding(Encoding::UTF_8)
    s.valid_encoding? ? s : s.scrub
  end
end

# Some ERB versions drop the line breaks inside a <%# %> comment from the compiled
# code, so every line after it is numbered too low; this compiler keeps them.
class KamalActionErbCompiler < ERB::Compiler
  def compile_content(stag, out)
    super
    content.count("\n").times { out.cr } if stag == "<%#"
  end
end
$kamal_action_comment_lines_lost = ERB.new("<%#\n%><%= __LINE__ %>").result == "1"

class KamalActionERB < ERB
  def make_compiler(trim_mode)
    $kamal_action_comment_lines_lost ? KamalActionErbCompiler.new(trim_mode) : super
  end

  def set_eoutvar(compiler, eoutvar = "_erbout")
    super
    compiler.put_cmd = "#{eoutvar}.kamal_text"
    compiler.insert_cmd = "#{eoutvar}.kamal_value"
    compiler.pre_cmd = ["#{eoutvar} = ::KamalActionErbOutput.new"]
  end
end

def kamal_action_render(out, trim)
  template = $stdin.read
  before = ENV.to_h
  erb = trim == "-" ? KamalActionERB.new(template, trim_mode: "-") : KamalActionERB.new(template)
  buffer = erb.result
  after = ENV.to_h
  changes = {}
  after.each { |k, v| changes[k] = v unless before[k] == v }
  before.each_key { |k| changes[k] = nil unless after.key?(k) }
  out.write(JSON.generate({ "chunks" => buffer.chunks, "env" => changes }))
rescue Exception => e
  where = e.is_a?(SyntaxError) ? e.message : (e.backtrace || []).join("\n")
  line = where[/^\(erb\):(\d+)/, 1] || e.message[/\(erb\):(\d+)/, 1]
  message = e.message
  if e.is_a?(NoMethodError) && message.start_with?("undefined method")
    # Ruby 3.4's wording, which never shows the receiver's value (it may be a secret)
    r = e.receiver
    message = "undefined method '#{e.name}' for " +
      (r.nil? || r == true || r == false ? r.inspect : r.is_a?(Module) ? r.inspect : "an instance of #{r.class}")
  end
  out.write(JSON.generate({ "error" => {
    "class" => e.class.name, "message" => KamalActionErbOutput.utf8(message.to_s), "line" => line&.to_i,
    "active_support" => $kamal_action_active_support,
  } }))
end

kamal_action_render(IO.new(3, "w"), ARGV[0])
`;

export interface RubyErbOptions {
  /** Path of the ruby interpreter. */
  ruby: string;
  /** Names the template in messages. */
  file: string;
  cwd: string;
  env: ErbEnv;
  trimMode: TrimMode;
}

export interface RubyErbOutput {
  text: string;
  lineMap: number[];
  envChanges: Record<string, string | null>;
}

interface RubyReply {
  chunks?: [number, 0 | 1, string][];
  env?: Record<string, string | null>;
  error?: { class: string; message: string; line: number | null; active_support: boolean };
}

/** Renders `template` with Ruby's ERB. Throws a ConfigError naming the file and line on any Ruby error. */
export function renderWithRuby(template: string, opts: RubyErbOptions): RubyErbOutput {
  const r = spawnSync(opts.ruby, ['-e', SCRIPT, opts.trimMode ?? ''], {
    cwd: opts.cwd,
    env: Object.fromEntries(Object.entries(opts.env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    input: template,
    // the template's own output (puts, system) goes to our stderr; the result comes on fd 3
    stdio: ['pipe', 2, 'inherit', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const raw = (r.output?.[3] as Buffer | null | undefined)?.toString('utf8') ?? '';
  let reply: RubyReply;
  try {
    reply = JSON.parse(raw) as RubyReply;
  } catch {
    // a Ruby that exits before reading the template also fails the write to its stdin (EPIPE): its exit code says more
    const why = r.signal ? `killed by ${r.signal}` : typeof r.status === 'number' ? `exit code ${r.status}` : (r.error?.message ?? 'no output');
    throw new ConfigError(`${opts.file}: Ruby could not render the ERB (${opts.ruby}: ${why})`);
  }
  if (reply.error) throw new ConfigError(rubyErrorMessage(reply.error, opts));
  const lineMap = [1];
  let text = '';
  for (const [line, kind, s] of reply.chunks ?? []) {
    let l = line;
    for (const ch of s) {
      if (ch === '\n') {
        if (kind === 0) l++;
        lineMap.push(l);
      }
    }
    text += s;
  }
  return { text, lineMap, envChanges: reply.env ?? {} };
}

function rubyErrorMessage(err: NonNullable<RubyReply['error']>, opts: RubyErbOptions): string {
  const where = err.line ? `${opts.file}:${err.line}` : opts.file;
  let message = err.message;
  if (err.class === 'SyntaxError') {
    // the compiled template's source lines mean nothing to the user: keep Ruby's explanations
    const lines = message.split('\n');
    const said = lines
      .map((l) => l.replace(/^\(erb\):\d+: /, ''))
      .filter((l) => l.trim() && !l.includes('_erbout') && !/^\s*(\.\.\.)?\s*\^/.test(l) && !/^\s*>?\s*\d+ \|/.test(l));
    const carets = lines.map((l) => /\^+ (.+)$/.exec(l)?.[1]).filter((l): l is string => !!l);
    message = [...said.filter((l) => l !== 'syntax errors found' && !/^\s*\|/.test(l)), ...carets].join('; ') || 'syntax error';
  }
  let hint = '';
  if (err.class === 'LoadError') {
    const lib = /cannot load such file -- (\S+)/.exec(message)?.[1];
    const gem = lib ? (GEM_OF[lib.split('/').slice(0, 2).join('/')] ?? GEM_OF[lib.split('/')[0]!] ?? lib.split('/')[0]!) : undefined;
    if (gem && KAMAL_GEMS.includes(gem)) {
      hint = `; Kamal's own process has the ${gem} gem, this Ruby (${opts.ruby}) does not: install it (gem install ${gem}, or the distribution's ruby-${gem} package)`;
    }
  } else if ((err.class === 'NoMethodError' || err.class === 'NameError') && !err.active_support) {
    hint = `; Kamal's own process has ActiveSupport loaded, this Ruby (${opts.ruby}) lacks the activesupport gem: install it (gem install activesupport)`;
  }
  // a missing ENV.fetch key reads as the built-in evaluator says it
  const cls = err.class === 'KeyError' ? '' : ` (${err.class})`;
  return `${where}: ${message}${cls}${hint}`;
}

/** The `ruby` the PATH of `env` finds, or null (also when `env` has no PATH). */
export function findRuby(env: ErbEnv): string | null {
  if (!Object.prototype.hasOwnProperty.call(env, 'PATH') || !env.PATH) return null;
  return searchPath('ruby', env) ?? null;
}

/** Finds `program` on the PATH of `env` (Ruby's and sh's default when PATH is unset). */
export function searchPath(program: string, env: ErbEnv): string | undefined {
  const path = Object.prototype.hasOwnProperty.call(env, 'PATH') ? env.PATH : undefined;
  return findOnPath(program, path ?? '/usr/local/bin:/usr/bin:/bin');
}

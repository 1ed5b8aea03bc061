#!/usr/bin/env node
// Regenerates tests/data/v8_json_errors.json: what JSON.parse says about each
// input, as recorded by the Node this runs on. Production runs Node 20
// (V8 11.x); run this with Node 20 only, since other versions word messages
// differently (V8 12 appends "(line N column M)").
//
//   node tools/gen_v8_json_fixtures.js
//
// Each entry is {"input", "ok": true, "value"} or {"input", "ok": false,
// "message"}. Valid inputs whose value JSON.stringify cannot carry faithfully
// (non-finite numbers) or that nest too deep for Python's json to load the
// fixture are left out. The random part is seeded, so the output is stable.
'use strict';

const fs = require('fs');
const path = require('path');

const major = Number(process.versions.node.split('.')[0]);
if (major !== 20) {
  console.error(`expected Node 20 (production's version), got ${process.version}`);
  process.exit(1);
}

const OUT = path.join(__dirname, '..', 'tests', 'data', 'v8_json_errors.json');
const SEED = 20240601;
const MUTATIONS = 700;
const RANDOM_VALID = 120;
const MAX_DEPTH = 64;

// ------------------------------------------------------------ hand-written

const cases = [];
const add = (...inputs) => cases.push(...inputs);

// Production recordings.
add('{"inputs": {"message": "oops"', 'a string', '{"name":"x",', ' ');

// Empty and whitespace-only; things that look like whitespace but are not JSON's.
add('', ' ', '\t', '\n', '\r', '\r\n', ' \t\n\r ', '\u00a0', '\ufeff', '\ufeff{}',
  '\u2028', '\u2029', '\v', '\f', '\u3000', '1\u00a0', '[1,\u00a02]', '{\f}', '[\v]',
  ' \u0085 ');

// Literals: exact, truncated at every length, misspelled at every position.
for (const word of ['true', 'false', 'null']) {
  add(word, ` ${word} `, `[${word}]`, `{"k":${word}}`, word.toUpperCase(),
    word[0].toUpperCase() + word.slice(1), `${word}${word}`, `${word}x`, `${word} x`,
    `${word}1`, `${word}"`, `${word},`, `[${word},]`, `{"k":${word}x}`);
  for (let n = 1; n < word.length; n++) {
    const cut = word.slice(0, n);
    add(cut, `[${cut}]`, `${cut} `, `{"a":${cut}`, `{"a":${cut}}`, `${cut}"`, `${cut}7`,
      `${cut}-`, `${cut}é`, `${cut}😀`, `${cut}\u0000`, `${cut}\t${word.slice(n)}`);
    add(cut + 'X' + word.slice(n + 1));
  }
}
add('nul', 'nulll', 'tru e', 'fals', 'nULL', 'True', 'None', 'nil', 'yes', 'NULL');

// Whole inputs V8 quotes without a token ("x" is not valid JSON).
add('undefined', 'NaN', 'Infinity', '-Infinity', '+Infinity', '[object Object]',
  ' undefined', 'undefined ', 'Undefined', 'nan', 'NAN', 'infinity', ' NaN',
  '[object Object] ', '[object Objec]', '[object Object', '[NaN]', '[Infinity]',
  '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '[undefined]', 'undefinedx',
  'undefine', 'NaN1', 'InfinitY', '[object object]', '{object Object}');

// Numbers, valid.
add('0', '-0', '1', '-1', '7', '10', '123456789', '-123456789', '999999999', '1000000000',
  '-1000000000', '2147483647', '2147483648', '-2147483649', '4294967296',
  '9007199254740991', '9007199254740993', '12345678901234567890', '1e21',
  '100000000000000000000', '1000000000000000000000', '0.5', '-0.5', '0.0', '-0.0',
  '1.0', '3.14159', '1e10', '1E10', '1e+10', '1e-10', '1E-2', '0e0', '0E+0', '-0e-0',
  '0.0e0', '1.5e300', '5e-324', '2e-400', '1.7976931348623157e308',
  '0.1', '0.30000000000000004', '123.456e-7', '[1,2.5,-3e2]', '{"n":-0.0}',
  '  42  ', '\n-7\t', '00000000000000000000000000000000000000.1',
  '0.' + '0'.repeat(30) + '1', '1' + '0'.repeat(300), '4' + '2'.repeat(30),
  '-' + '9'.repeat(25), '1'.repeat(40) + '.5', '123456789012', '[0,-0,0.0,-0.0]');

// Numbers, malformed in every way V8 distinguishes.
add('-', '--1', '+1', '+', '01', '-01', '00', '000', '0001', '-00', '0.', '-0.', '0.e1',
  '.5', '-.5', '.', '1.', '1.e', '1.e5', '1e', '1E', '1e+', '1e-', '1E+', '1e+-1',
  '1ee', '1eE1', '1..2', '1.2.3', '0x10', '0X1', '0b1', '0o7', '1_000', '1,000', '- 1',
  '-\t1', '1e5.5', '0-1', '0+1', '1-', '1+', '1-2', '0e', '0e+', '-0e-', '0.0.',
  '١', '1١', '[01]', '[-]', '[-,1]', '{"a":-}', '{"a":1.}', '{"a":1e}', '{"a":01}',
  '12a', '1e5x', '1.5x', '-x', '-a', '-e', '-.', '-"', '-[', '-\u00e9', '-😀',
  '1 2', '1\t2', '1 -', '[1 2]', '[1.]', '[1e+]', '[1.e1]', '{"a":0x}', '[0b]',
  '3.', '3.a', '3e', '3ea', '3e+a', '2.5E', '2.5E-', '1.0e+', '-0.e', '-0e',
  '123456789a', '1234567890a', '1234567890.', '1234567890e', '9'.repeat(20) + '.',
  '0' + '0'.repeat(20), '-' + '0'.repeat(5), '1e' + '0'.repeat(3) + 'x', '[1,-]',
  '[1,+1]', '{"a":+1}', '{"a": .5}', '[.5]', '1.5.', '0.5e-', '−1', '1e٣');

// Strings, valid.
add('""', '"a"', '"a string"', '" "', '"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"',
  '"\\u0041"', '"\\u00e9"', '"\\u00E9"', '"\\uFFFF"', '"\\u0000"', '"\\u001f"',
  '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"\\ud800"', '"\\udc00"', '"\\udc00\\ud800"',
  '"x\\ud800y"', '"\\ud83dx"', '"é"', '"日本語"', '"😀"', '"a😀b😀c"', '"\u007f"',
  '"\u0080"', '"\u2028\u2029"', '"\ufeff"', '"\\"\\\\\\/"', '"tab\\there"',
  '"' + 'x'.repeat(500) + '"', '"\\u0031"', '"\\u002F"', '"\\u005C"', '"\\u0022"',
  '"😀"' + ' '.repeat(3), '["\\ud800", "\\udfff"]');

// Strings, malformed.
add('"', '"abc', '"abc\\"', '"\\"', '"\\', '"\\u', '"\\u1', '"\\u12', '"\\u123',
  '"\\u1234', '"\\u12g4"', '"\\uGGGG"', '"\\u 123"', '"\\u+123"', '"\\u-123"',
  '"\\u0_12"', '"\\U0041"', '"\\x41"', '"\\a"', '"\\\'"', '"\\0"', '"\\1"', '"\\ "',
  '"\\v"', '"\\e"', '"\\é"', '"\\€"', '"\\😀"', '"\\\u0000"', '"\\\n"',
  '"\u0000"', '"\u0001"', '"\t"', '"\n"', '"\r"', '"\u001f"', '"a\nb"', '"abc\u0007def"',
  "'abc'", "'", '"abc"def"', '"abc""', '"a" "b"', '"a":1', '"\\u00e9\\"', '["abc',
  '["abc"', '["abc",', '{"abc', '{"abc"', '{"abc":"def', '{"a":"\\q"}', '{"\\q":1}',
  '{"a\u0001":1}', '{"a":"b\u0002"}', '{"\\u12":1}', '{"\\u":1}', '["\\u12345"]',
  '"\\u12345', '"\\ud83d\\u"', '"\\ud83d\\ude0"', '"😀\\x"', '"😀\u0001"', '"😀',
  '"' + 'x'.repeat(50), '"' + 'x'.repeat(50) + '\\q"', '"\\u00', '"\\uD8', '"\\\\\\',
  '"\\\\"\\"', '"\\/\\', '"abc\\u00zz"', '"\\u\u00e9"', '"\\u12\u20ac"', '"\\\t"');

// Objects.
add('{}', '{ }', ' { } ', '{"a":1}', '{"a":1,"b":2}', '{"a":{"b":{"c":[1,{"d":null}]}}}',
  '{"a":1,"b":2,"a":3}', '{"a":1,"a":2,"a":3}', '{"__proto__":1}',
  '{"__proto__":{"x":1},"y":2}', '{"constructor":1,"toString":2,"hasOwnProperty":3}',
  '{"b":1,"1":2,"a":3,"0":4}', '{"10":1,"9":2,"a":3,"01":4,"-1":5,"1.5":6}',
  '{"4294967294":1,"4294967295":2,"4294967296":3,"0":4}', '{"\\u0031":1,"0":2}',
  '{"z":1,"2":2,"2":3,"z":4}', '{"":1}', '{"":1,"":2}', '{"a b":1, "c\\nd" : 2 }',
  '{"é":1,"😀":2,"\\ud800":3}', '{"0":{"1":[{"2":3}]}}', '{"a":[],"b":{},"c":""}',
  '{"007":1,"7":2}', '{"1":1,"2":2,"3":3,"10":10,"100":100,"b":0,"a":0}',
  '{"length":3,"0":"a"}', '{"' + 'k'.repeat(100) + '":1}', '{"b":1,"90":2}',
  '{"x":1,"95":2,"9":3}', '{"b":1,"\\u0039\\u0030":2}', '{"b":1,"4294967294":2}',
  '{"b":1,"42" :2}', '{"b":{"c":1,"7":2},"3":[{"z":0,"1":1}]}', '{"b":1,"1 ":2,"2":3}');
add('{', '{ ', '{"', '{"a', '{"a"', '{"a":', '{"a":1', '{"a":1,', '{"a":1 ', '{"a" ',
  '{a:1}', "{'a':1}", '{1:2}', '{"a"}', '{"a":}', '{"a":1,}', '{"a":1 "b":2}',
  '{"a" 1}', '{"a"::1}', '{"a":1}}', '{"a":1]', '{"a":1,,"b":2}', '{,"a":1}',
  '{"a":1,"b"}', '{"a", "b"}', '{ "a" : 1 , }', '{,}', '{:}', '{"a":1;"b":2}',
  '{"a"=1}', '{"a":1,"b":}', '{"a":[1,2}', '{"a":{"b":1}', '{"a":{"b":1}}}',
  '{"a":{"b":1},}', '{"a" : 1 x}', '{"a":1}x', '{"a":1} x', '{"a":1}{"b":2}',
  '{null:1}', '{true:1}', '{-1:1}', '{"a":1 , "b" 2}', '{"a":"x" "b":"y"}',
  '{"a":1\t,\n"b"\r:\n}', '{ "a" }', '{]', '{[]:1}', '{{}}', '{"a":1,"a"}',
  '{"a":tru}', '{"a":nul,"b":1}', '{"é":1 x}', '{"😀":1 x}', '{"😀":1,}',
  '{"😀" 1}', '{"😀":x}', '{"a":"😀"x}', '{"\\ud83d":1 x}', '{"a":1,"😀":}',
  '{"a":1,\'b\':2}', '{"a":1,b:2}', '{"a":1, 2:3}', '{"a":1,"b":2,}', '{"a":1 /*c*/}',
  '{"a":1}//', '{"a"\u00a0:1}', '{\u00a0"a":1}', '{"a":1\u00a0}');

// Arrays.
add('[]', '[ ]', '[[]]', '[[[]]]', '[1]', '[1,2,3]', '[ 1 , 2 ]', '["a",{"b":[]}]',
  '[true,false,null]', '[[1,[2,[3,[4]]]]]', '[{}, {}, []]', '[-0]', '[""]');
add('[', '[ ', '[1', '[1 ', '[1,', '[1, ', '[1,]', '[,1]', '[,]', '[1,,2]', '[1 2]',
  '[1:2]', '[1}', '[[]', '[[[]', '[]]', '[[]]]', ']', '}', ':', ',', '[1,2,]',
  '["a" "b"]', '["a",]', '[{"a":1}]]', '[{"a":1]', '[{]', '[}', '[:]', '[;]',
  '[1;2]', '[1,2 3]', '[null null]', '[true,]', '[1]x', '[1] x', '[1][2]', '[1],',
  '["é" 1]', '["日本語" 1]', '["😀",]', '["😀" 1]', '["😀",x]', '[😀]', '[é]',
  '[1,\u00a02]', '[\ufeff]', '[1\u20282]', '[-1,-]', '[[1,2],[3,4],]', '[1, "2", [3, ]]');

// Trailing content after a complete value.
add('1 2', '{} {}', '[] x', '"a" "b"', 'true false', 'null,', '0 0', '"a"x', '{}]',
  '[]}', '1,', '1 ,', 'null null', '"😀" 1', '"😀"x', '{"😀":1}}', '[1]]', '0x', '-0x',
  '0-', '0+', '0 1', '1.5 2', '1e5 x', '""""', '"\\u0041"a', 'true\u00a0', '1\ufeff');

// Unexpected token context forms: short (<= 20 code units), start, middle, end.
for (const len of [19, 20, 21, 22, 25, 31, 40, 64]) {
  for (const pos of [0, 1, 5, 9, 10, 11, 15, len - 12, len - 11, len - 10, len - 9, len - 1]) {
    if (pos < 0 || pos >= len) continue;
    add(' '.repeat(pos) + 'x' + 'y'.repeat(len - pos - 1));
    add('[' + '1,'.repeat(pos).slice(0, pos - 1) + (pos ? ',' : '') + 'z'.repeat(len - pos));
  }
}
const long = '{"alpha":[1,2,3],"beta":{"gamma":"delta","eps":[true,false,null]},"z":"end"}';
for (let pos = 0; pos < long.length; pos += 3) add(long.slice(0, pos) + '#' + long.slice(pos + 1));
add(long + 'x', long.slice(0, -1) + ']', long.replace('"delta"', 'delta'),
  long.replace('3]', '3,]'), long.replace(',"eps"', ' "eps"'), long.replace(':[1', ':[01'),
  long.replace('true', 'tru'), long.replace('null', 'nul!'), long.replace('"z"', 'z'));
// Context snippets that start or end inside a surrogate pair, or hold non-BMP text.
for (let k = 0; k < 14; k++) {
  add('["' + '😀'.repeat(k) + '",x' + 'y'.repeat(12) + ']');
  add('["' + 'é'.repeat(k) + '😀😀😀😀😀😀😀",x]');
  add('["😀😀😀😀😀😀😀😀😀😀", ' + ' '.repeat(k) + '@]');
  add('x' + '😀'.repeat(k + 5));
  add(' '.repeat(k) + '#' + '日本語'.repeat(4));
}
add('😀', '😀😀', ' 😀', '["😀"]x', '"😀😀😀😀😀😀😀😀😀😀😀😀" x', '{"😀":[1,2,😀]}',
  '["\ud83d"x]', '\ud83d', '\ude00', '"\ud83d"', '"\ude00\ud83d"', '[\ud83d]',
  '["😀\ud83d",x]', 'a\ud83db', '€', '[["😀"],{"😀":"😀"},x]', '[{"😀":1},{"b":2} 3]',
  '{"a":["😀😀",{"b":"😀"}],"c":[1,2,]}', '[[1],["😀"],[{"1":"😀","a":[]}],[😀]]',
  '{"x":{"😀":[{"2":1,"1":2}]},"y":{"z":"😀"},"w":nul}', '€€€€€€€€€€€€€€€€€€€€€€€€€', 'éx', 'é' + 'x'.repeat(30));

// Non-ASCII before each positional message.
for (const pre of ['"é"', '"😀"', '"日本"', '"\\ud83d\\ude00"', '"😀😀😀"']) {
  add(`[${pre},1.]`, `[${pre},1e]`, `[${pre},-]`, `[${pre},01]`, `[${pre} 1]`,
    `{${pre}:1,}`, `{${pre} 1}`, `{${pre}:1 2}`, `[${pre},"\\q"]`, `[${pre},"\\u12x"]`,
    `[${pre},"\u0001"]`, `[${pre},"abc`, `${pre} x`, `[${pre},tru]`, `[${pre},trux]`,
    `[${pre}, "ok", nulx]`, `{"k":${pre},"v":}`);
}

// Deep nesting (the fixture keeps only shallow valid values; see MAX_DEPTH).
add('['.repeat(40) + ']'.repeat(40), '['.repeat(5000) + ']'.repeat(4999),
  '['.repeat(3000) + '1,' + ']'.repeat(3000), '{"a":'.repeat(3000) + '1' + '}'.repeat(2999) + ']',
  '{"a":'.repeat(2000) + '1' + '}'.repeat(2000) + 'x', '['.repeat(1200) + 'x');

// ------------------------------------------------------------ seeded random

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];

const WORDS = ['', 'a', 'id', 'name', 'é', '日本', '😀', '\\n', '\\u00e9', '\\ud83d\\ude00',
  'x y', '\\"q\\"', '__proto__', '0', '12', 'a\\\\b'];
const NUMBERS = ['0', '-0', '1', '-17', '3.25', '1e3', '-2.5E-3', '123456789012', '0.001',
  '6.02e23', '9007199254740993'];
const SPACES = ['', '', '', ' ', '\n', '\t', '  ', '\r\n'];

function randomJson(depth) {
  const sp = () => pick(SPACES);
  const r = int(depth > 3 ? 6 : 9);
  if (r === 0) return pick(['true', 'false', 'null']);
  if (r <= 2) return pick(NUMBERS);
  if (r <= 5) return '"' + pick(WORDS) + '"';
  const n = int(4);
  const items = [];
  if (r <= 6) {
    for (let i = 0; i < n; i++) items.push(sp() + randomJson(depth + 1) + sp());
    return '[' + items.join(',') + (n ? '' : sp()) + ']';
  }
  for (let i = 0; i < n; i++) {
    items.push(sp() + '"' + pick(WORDS) + '"' + sp() + ':' + sp() + randomJson(depth + 1) + sp());
  }
  return '{' + items.join(',') + (n ? '' : sp()) + '}';
}

const BASES = [
  '{"inputs": {"message": "oops", "count": 3, "tags": ["a", "b"]}, "dryRun": false}',
  '{"name":"x","version":2,"steps":[{"id":"s1","run":"echo hi"},{"id":"s2","after":["s1"]}]}',
  '[1, -2.5, 3e10, 0.001, -0, 12345678901234, true, false, null, "str"]',
  '{"text":"caf\u00e9 \\u00e9 \\n\\t\\"q\\" \\\\ \\/","emoji":"😀👍","ja":"日本語"}',
  '{"a":{"b":{"c":{"d":[[],{},[{}],{"e":[1,[2,[3]]]}]}}}}',
  '  [ "x" , { "y" : null } , [ ] ]  ',
  '{"metadata":{"owner":"ops","retries":0,"timeoutMs":30000},"schedule":"*/5 * * * *"}',
  '"just a string with \\u0041 escapes and 😀"',
  '{"1":"one","b":"bee","0":"zero","__proto__":{"x":1}}',
  '-12.5e-3',
];
const POOL = ['{', '}', '[', ']', ':', ',', '"', '\\', ' ', '-', '+', '.', 'e', 'E', '0', '1',
  '9', 't', 'f', 'n', 'u', 'l', 'x', '\t', '\n', '\r', '\u0000', '\u001f', 'é', '€', '😀',
  '\ufeff', '\u00a0', "'", '/', 'N', 'I'];

function mutate(text) {
  let s = text;
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    const at = int(s.length + 1);
    switch (int(7)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1); break; // delete
      case 1: s = s.slice(0, at) + pick(POOL) + s.slice(at); break; // insert
      case 2: s = s.slice(0, at) + pick(POOL) + s.slice(at + 1); break; // replace
      case 3: s = s.slice(0, at); break; // truncate
      case 4: { // duplicate a slice
        const len = 1 + int(6);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      }
      case 5: // swap neighbours
        if (at + 1 < s.length) s = s.slice(0, at) + s[at + 1] + s[at] + s.slice(at + 2);
        break;
      default: s = s.slice(0, at) + pick(SPACES.slice(3)) + s.slice(at); // whitespace
    }
  }
  return s;
}

const generated = [];
for (let i = 0; i < RANDOM_VALID; i++) generated.push(pick(SPACES) + randomJson(0) + pick(SPACES));
for (let i = 0; i < MUTATIONS; i++) {
  const base = i % 3 === 0 ? randomJson(0) : pick(BASES);
  generated.push(mutate(base));
}

// ------------------------------------------------------------ record

function faithful(value, depth) {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  if (depth > MAX_DEPTH) return false;
  return Object.values(value).every((v) => faithful(v, depth + 1));
}

const seen = new Set();
const entries = [];
let skipped = 0;
for (const input of [...cases, ...generated]) {
  if (seen.has(input)) continue;
  seen.add(input);
  let entry;
  try {
    const value = JSON.parse(input);
    if (!faithful(value, 0)) { skipped++; continue; }
    entry = { input, ok: true, value };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    entry = { input, ok: false, message: err.message };
  }
  entries.push(JSON.stringify(entry));
}

fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, '[\n' + entries.join(',\n') + '\n]\n');
const failing = entries.filter((e) => e.includes('"ok":false')).length;
console.log(`${entries.length} entries (${failing} failing, ${entries.length - failing} valid,`
  + ` ${skipped} skipped) -> ${path.relative(process.cwd(), OUT)} with ${process.version}`);

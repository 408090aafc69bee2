/**
 * What a handler's code produces to, read from the code itself with the TypeScript checker: starting from the
 * handler's module, every function, class and constant of the project it refers to (transitively, through
 * imports) is searched for object properties `topic:` / `topicArn:` whose value is a field of a configuration
 * object (`config.deadLetterTopic`). The field's declaring interface
 * and name say which environment variable names the topic (`PipelineConfig.deadLetterTopic` is read from
 * KAFKA_DLQ_TOPIC). A topic taken from a configuration field this map does not know fails loudly, so a new
 * topic cannot slip past the role checks.
 */
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './fixtures';

/** `<interface>.<field>` → the environment variable the loader reads it from (see shared/…/config.ts). */
export const TOPIC_FIELDS: Record<string, { env: string; kind: 'kafka' | 'sns' }> = {
  'PipelineConfig.topic': { env: 'KAFKA_TOPIC', kind: 'kafka' },
  'PipelineConfig.deadLetterTopic': { env: 'KAFKA_DLQ_TOPIC', kind: 'kafka' },
  'AlertsConfig.topic': { env: 'KAFKA_ALERTS_TOPIC', kind: 'kafka' },
  'SnsConfig.topicArn': { env: 'SNS_TOPIC_ARN', kind: 'sns' },
  'SnsConfig.deadLetterTopicArn': { env: 'SNS_DLQ_TOPIC_ARN', kind: 'sns' },
};

const PROPERTY = new Set(['topic', 'topicArn', 'TopicArn']);

export interface ProducedBy {
  /** Environment variables naming the Kafka topics the handler's code produces to. */
  kafka: string[];
  /** Environment variables naming the SNS topics it publishes to. */
  sns: string[];
}

let program: ts.Program | undefined;

function projectProgram(): ts.Program {
  if (program) return program;
  const configPath = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  const roots = parsed.fileNames.filter((f) => /\/(functions|shared)\//.test(f));
  program = ts.createProgram(roots, parsed.options);
  return program;
}

/** The interface or type that declares a property symbol (through Pick<> and other mapped types). */
function declaringType(symbol: ts.Symbol | undefined): string | undefined {
  const declaration = symbol?.declarations?.[0];
  const parent = declaration?.parent;
  if (parent && (ts.isInterfaceDeclaration(parent) || ts.isTypeAliasDeclaration(parent)))
    return parent.name.text;
  if (parent && ts.isTypeLiteralNode(parent) && ts.isTypeAliasDeclaration(parent.parent)) {
    return parent.parent.name.text;
  }
  return undefined;
}

/** What the handler in `handlerFile` (relative to the project, e.g. functions/alerts.ts) produces to. */
export function producedBy(handlerFile: string): ProducedBy {
  const p = projectProgram();
  const checker = p.getTypeChecker();
  const start = p.getSourceFile(join(ROOT, handlerFile));
  if (!start) throw new Error(`${handlerFile} is not part of the TypeScript project`);
  const result: ProducedBy = { kafka: [], sns: [] };
  const visited = new Set<ts.Node>();
  const inProject = (node: ts.Node) => {
    const name = node.getSourceFile().fileName;
    return !name.includes('/node_modules/') && !name.endsWith('.d.ts');
  };
  const check = (node: ts.PropertyAssignment & { initializer: ts.PropertyAccessExpression }) => {
    const owner = declaringType(checker.getSymbolAtLocation(node.initializer.name));
    if (!owner || !/Config$/.test(owner)) return;
    const key = `${owner}.${node.initializer.name.text}`;
    const field = TOPIC_FIELDS[key];
    if (!field) {
      const file = node.getSourceFile();
      const { line } = file.getLineAndCharacterOfPosition(node.getStart());
      throw new Error(
        `${relative(ROOT, file.fileName)}:${line + 1} takes a topic from ${key}, which TOPIC_FIELDS does not map ` +
          'to an environment variable; add it there and to custom.access',
      );
    }
    const list = result[field.kind];
    if (!list.includes(field.env)) list.push(field.env);
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      PROPERTY.has(node.name.text) &&
      ts.isPropertyAccessExpression(node.initializer)
    ) {
      check(node as ts.PropertyAssignment & { initializer: ts.PropertyAccessExpression });
    }
    if (ts.isIdentifier(node)) {
      let symbol = checker.getSymbolAtLocation(node);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      for (const declaration of symbol?.declarations ?? []) {
        // Follow what the code refers to: functions, methods, classes and initialised constants of the project.
        const body =
          ts.isFunctionDeclaration(declaration) ||
          ts.isMethodDeclaration(declaration) ||
          ts.isClassDeclaration(declaration) ||
          (ts.isVariableDeclaration(declaration) && declaration.initializer);
        if (body && inProject(declaration) && !visited.has(declaration)) {
          visited.add(declaration);
          visit(declaration);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(start);
  result.kafka.sort();
  result.sns.sort();
  return result;
}

// A Stryker reporter (`survivors`) that writes each surviving or uncovered mutant the moment it is tested,
// to reports/mutation/<group>.survivors.txt: Stryker writes its own reports only when a run ends, and a run
// stopped early (a deadline, a shared machine) would otherwise say nothing about which mutants lived.
import fs from 'node:fs';
import path from 'node:path';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

class SurvivorsReporter {
  constructor() {
    this.file = path.resolve('reports/mutation', `${process.env.MUTATION_GROUP ?? 'core'}.survivors.txt`);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, '');
  }

  onMutantTested(result) {
    if (result.status !== 'Survived' && result.status !== 'NoCoverage') return;
    const { line, column } = result.location.start;
    const where = `${path.relative(process.cwd(), result.fileName)}:${line}:${column}`;
    fs.appendFileSync(this.file, `${result.status} ${where} ${result.mutatorName}: ${JSON.stringify(result.replacement ?? '')}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'survivors', SurvivorsReporter)];

// The instrument definitions shared with the server (instruments/*.json): one copy of
// thresholds, bands, cut-offs and the text shown to clinicians. Read-only: never mutate.
import falls from '../../../instruments/falls.json' with { type: 'json' };
import shortFesI from '../../../instruments/short_fes_i.json' with { type: 'json' };
import activation from '../../../instruments/activation.json' with { type: 'json' };
import nhsNumber from '../../../instruments/nhs_number.json' with { type: 'json' };

export const instruments = Object.freeze({ falls, shortFesI, activation, nhsNumber });
export { falls, shortFesI, activation, nhsNumber };

// Turning written figures into rows; shared by events (an editor's figures) and reports (claims).
import type { Located, UnitOfWork } from '../../write/unit.js';
import type { ActorRef } from '../actors/schemas.js';
import { resolveActor } from '../actors/writes.js';
import { normaliseFigure, type FigureInput } from './schemas.js';

/** The actor references inside figures, located for UnitOfWork.verifyReferences. */
export function figureSubjects(figures: FigureInput[], pointer: string): Located<ActorRef>[] {
  return figures.flatMap((figure, i) =>
    figure.subject ? [[figure.subject, `${pointer}/${i}/subject`] as Located<ActorRef>] : [],
  );
}

/** What a written figure stores, its subject aside: low/best/high normalised, a range named as one. */
export function figureValues(figure: FigureInput) {
  return {
    measure: figure.measure,
    ...normaliseFigure(figure),
    qualifier:
      figure.qualifier ?? (figure.low != null && figure.high != null && figure.low !== figure.high ? 'range' : null),
    text: figure.text ?? null,
    unit: figure.unit ?? null,
  } as const;
}

/** Rows for `figure.createMany`, owned by an event or by a report. */
export async function figureRows(
  unit: UnitOfWork,
  figures: FigureInput[],
  owner: { eventId: string } | { reportId: string },
) {
  const rows = [];
  for (const [position, figure] of figures.entries()) {
    rows.push({
      ...owner,
      position,
      ...figureValues(figure),
      subjectId: figure.subject ? await resolveActor(unit, figure.subject) : null,
    } as const);
  }
  return rows;
}

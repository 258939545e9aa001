/**
 * export: a student's texts rendered as the server's upload JSON, CSV, or a
 * folder of one file per task; written atomically (see write.ts).
 */
export { checkOutputPlace, type OutputPlace, writeFileAtomic, writeDirAtomic } from './write.js';
export { type ExportFormat, EXPORT_FORMATS, type ExportContext, renderJson, renderUploadJson, renderCsv,    render, writeExport,  } from './render.js';
export { allTexts, writeAllTexts,   } from './all.js';
export { uploadAdvice,  } from './advice.js';

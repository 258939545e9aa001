/**
 * export: a student's texts rendered as the server's upload JSON, CSV, or a
 * folder of one file per task; written atomically (see write.ts).
 */
export { refuseExisting, writeFileAtomic, writeDirAtomic, type WriteOptions } from './write.js';
export { type ExportFormat, EXPORT_FORMATS, type ExportContext, renderJson, renderUploadJson, renderCsv, textFileNames, uniqueFileNames, renderIndex, render, writeExport, fillTextsDir } from './render.js';
export { allTexts, writeAllTexts, type AllTexts, type StudentTexts } from './all.js';
export { uploadAdvice, type ExportAdvice } from './advice.js';

// CSV writing and parsing are shared with the request-log export; they live in src/common/text.
export { csvCell, csvRow, parseCsv } from 'src/common/text/csv';

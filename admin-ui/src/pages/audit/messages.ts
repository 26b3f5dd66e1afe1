/** Strings of the audit page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Audit trail',
};

export const zh: typeof en = {
  title: '审计日志',
};

/** Strings of the dashboard page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Dashboard',
};

export const zh: typeof en = {
  title: '仪表盘',
};

/** Strings of the routing page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Routing',
};

export const zh: typeof en = {
  title: '路由',
};

/** Strings of the users page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Users',
};

export const zh: typeof en = {
  title: '用户',
};

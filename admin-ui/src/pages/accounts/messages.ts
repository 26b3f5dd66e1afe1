/** Strings of the accounts page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Accounts',
};

export const zh: typeof en = {
  title: '账户',
};
